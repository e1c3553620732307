// Dense pixel data to RGBA and kernel helpers (the canvases draw exactly these pixels).
import { describe, it, expect } from 'vitest';
import { channelToRgba, channelRange, channelIsZero, imageToRgba, kernelToRgba, kernelNorms, kernelAt, subtract } from '../../src-renderer/src/canvas/tensor-image';
import { divergingScale, sequentialScale, scaleFor } from '../../src-renderer/src/theme/colours';

describe('activation maps', () => {
  // 2x2 spatial, 2 channels, HWC: channel 0 = [-1, 0, 1, 2], channel 1 all zero.
  const t = { data: new Float32Array([-1, 0, 0, 0, 1, 0, 2, 0]), height: 2, width: 2, channels: 2 };

  it('reads one channel out of HWC data', () => {
    expect(channelRange(t, 0)).toEqual({ min: -1, max: 2 });
    expect(channelIsZero(t, 1)).toBe(true);
    expect(channelIsZero(t, 0)).toBe(false);
  });

  it('paints negative red, zero white, positive blue on the diverging scale', () => {
    const px = channelToRgba(t, 0, divergingScale(2));
    const at = (i: number) => [px[i * 4], px[i * 4 + 1], px[i * 4 + 2], px[i * 4 + 3]];
    const [r0, , b0] = at(0); // -1: reddish
    expect(r0).toBeGreaterThan(b0);
    const [r1, g1, b1] = at(1); // 0: near white
    expect(Math.min(r1, g1, b1)).toBeGreaterThan(230);
    const [r3, , b3] = at(3); // 2: blue
    expect(b3).toBeGreaterThan(r3);
    expect(at(3)[3]).toBe(255);
  });

  it('chooses a sequential scale for non-negative data', () => {
    expect(scaleFor(0, 5).kind).toBe('sequential');
    expect(scaleFor(-0.1, 5).kind).toBe('diverging');
    expect(scaleFor(-0.1, 5).domain).toEqual([-5, 5]);
    const s = sequentialScale(4);
    const lo: [number, number, number] = [0, 0, 0];
    const hi: [number, number, number] = [0, 0, 0];
    s.rgb(0, lo);
    s.rgb(4, hi);
    // Zero is white (as on the diverging scale), the maximum a dark blue.
    expect(Math.min(...lo)).toBeGreaterThan(230);
    expect(hi[2]).toBeGreaterThan(hi[0]);
    expect(hi[0] + hi[1] + hi[2]).toBeLessThan(lo[0] + lo[1] + lo[2]);
    // A layer that goes negative keeps every map diverging, even a map that happens to be >= 0.
    expect(scaleFor(0, 2, { min: -1 }).kind).toBe('diverging');
  });

  it('stretches an image to 0..255 and repeats grey into RGB', () => {
    const px = imageToRgba({ data: [0, 0.5, 1, 0.25], height: 2, width: 2, channels: 1 });
    expect([px[0], px[1], px[2]]).toEqual([0, 0, 0]);
    expect([px[8], px[9], px[10]]).toEqual([255, 255, 255]);
    expect(() => imageToRgba({ data: [0, 0], height: 1, width: 1, channels: 2 })).toThrow(/1 or 3 channels/);
  });
});

describe('kernels', () => {
  // 2x2 kernels, 3 input channels, 2 output channels, tfjs order [kh, kw, in, out].
  const data = new Float32Array(2 * 2 * 3 * 2);
  for (let i = 0; i < data.length; i++) data[i] = (i % 2 === 0 ? 1 : -1) * (i + 1) * 0.01;
  const k = { data, kh: 2, kw: 2, inChannels: 3, outChannels: 2 };

  it('indexes weights in tfjs order', () => {
    expect(kernelAt(k, 0, 0, 0, 1)).toBeCloseTo(-0.02);
    expect(kernelAt(k, 1, 1, 2, 0)).toBeCloseTo(data[((1 * 2 + 1) * 3 + 2) * 2 + 0]);
  });

  it('paints a first-layer kernel in RGB with zero at mid grey', () => {
    const px = kernelToRgba(k, 0, null);
    // Output 0 has only positive weights: every channel above mid grey.
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) expect(px[i * 4 + c]).toBeGreaterThan(127);
    const neg = kernelToRgba(k, 1, null);
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) expect(neg[i * 4 + c]).toBeLessThan(128);
  });

  it('computes per-kernel L2 norms and differences', () => {
    const norms = kernelNorms(k);
    let s0 = 0;
    for (let i = 0; i < data.length; i += 2) s0 += data[i] ** 2;
    expect(norms[0]).toBeCloseTo(Math.sqrt(s0), 5);
    expect(Array.from(subtract([3, 2], [1, 1]))).toEqual([2, 1]);
    expect(() => subtract([1], [1, 2])).toThrow(/lengths differ/);
  });
});
