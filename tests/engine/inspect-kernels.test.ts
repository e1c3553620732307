// Conv kernels: extraction from built models, tiled renderings, PNG round trip, and a run's snapshot timeline.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec } from '../../src-main/engine/models';
import { KernelSnapshotStore } from '../../src-main/engine/train/kernel-snapshots';
import { convKernels, filterNorms, kernelAt, type KernelArray } from '../../src-main/engine/inspect/kernels';
import { differenceToFirst, filterNormsOverTime, loadKernelSnapshot, openKernelTimeline } from '../../src-main/engine/inspect/kernel-timeline';
import { renderKernels } from '../../src-main/engine/inspect/render/kernels';
import { overlayHeatmap, pixelsToImage, renderActivation, renderHeatmap } from '../../src-main/engine/inspect/render/activations';
import { colourScales } from '../../src-main/engine/inspect/render/image';
import { encodePng } from '../../src-main/engine/inspect/render/png';
import { LayerChoiceError, ModelRefError } from '../../src-main/engine/inspect/errors';

let scratch: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-inspect-kernels-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function pixel(img: { width: number; data: Uint8ClampedArray }, x: number, y: number): number[] {
  const o = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(o, o + 4));
}

describe('convKernels', () => {
  it('returns every conv kernel of a grouped AlexNet as [h, w, in/groups, out] with the layer’s own values', async () => {
    const model = buildModel(getModelSpec('alexnet', { width: 0.125, input: '67x67x3', classes: 5 }), { seed: 3 });
    const kernels = await convKernels(model);
    expect(kernels.map((k) => [k.name, k.shape.join('x')])).toEqual([
      ['conv1', '11x11x3x12'],
      ['conv2', '5x5x6x32'],
      ['conv3', '3x3x32x48'],
      ['conv4', '3x3x24x48'],
      ['conv5', '3x3x24x32'],
    ]);
    const conv2 = model.getLayer('conv2').getWeights()[0];
    expect(Array.from(kernels[1].values)).toEqual(Array.from(conv2.dataSync()));
    // kernelAt indexes [y, x, c, f] as tfjs lays it out.
    expect(kernelAt(kernels[1], 2, 3, 4, 5)).toBe(conv2.bufferSync().get(2, 3, 4, 5));
    model.dispose();
  });

  it('computes each filter’s L2 norm', () => {
    const k: KernelArray = { name: 'k', shape: [1, 2, 1, 2], values: Float32Array.from([3, 1, 4, 1]) };
    expect(Array.from(filterNorms(k))).toEqual([5, Math.fround(Math.SQRT2)]);
  });
});

describe('renderKernels', () => {
  const k: KernelArray = { name: 'k', shape: [1, 1, 3, 2], values: Float32Array.from([1, 0.5, 0, 0.5, -1, 0.5]) };

  it('draws 3-channel kernels in colour on a shared min-max scale', () => {
    const img = renderKernels(k, { zoom: 1, gap: 1 });
    expect([img.width, img.height]).toEqual([5, 3]);
    expect(pixel(img, 1, 1)).toEqual([255, 128, 0, 255]); // filter 0 = (1, 0, -1) on [-1, 1]
    expect(pixel(img, 3, 1)).toEqual([191, 191, 191, 255]); // filter 1 = (0.5, 0.5, 0.5)
    expect(pixel(img, 0, 0)).toEqual([40, 40, 40, 255]); // gap
  });

  it('stretches each kernel to its own range on request, and takes a fixed range', () => {
    const per = renderKernels(k, { zoom: 1, gap: 1, scale: 'per-kernel' });
    expect(pixel(per, 3, 1)).toEqual([128, 128, 128, 255]); // a flat kernel sits mid-scale
    const fixed = renderKernels(k, { zoom: 1, gap: 0, range: { lo: 0, hi: 2 } });
    expect(pixel(fixed, 0, 0)).toEqual([128, 0, 0, 255]);
  });

  it('shows deeper layers as the channel mean or one tile per input channel, on a diverging scale', () => {
    const deep: KernelArray = { name: 'd', shape: [2, 2, 4, 3], values: Float32Array.from({ length: 48 }, (_, i) => (i % 7) - 3) };
    const mean = renderKernels(deep, { zoom: 2, gap: 1 });
    expect([mean.width, mean.height]).toEqual([2 * 4 + 3, 2 * 4 + 3]); // 3 tiles in a 2x2 grid
    const per = renderKernels(deep, { mode: 'per-input', gap: 1 });
    expect([per.width, per.height]).toEqual([4 * 2 + 5, 3 * 2 + 4]); // rows = filters, columns = inputs
    // A weight of 0 is white on the diverging scale.
    const zeroAt = deep.values.indexOf(0);
    const [f, c] = [zeroAt % 3, Math.floor(zeroAt / 3) % 4];
    const [y, x] = [Math.floor(zeroAt / 24), Math.floor(zeroAt / 12) % 2];
    expect(pixel(per, 1 + c * 3 + x, 1 + f * 3 + y)).toEqual([247, 247, 247, 255]);
    expect(() => renderKernels(deep, { mode: 'rgb' })).toThrow(/3 input channels/);
  });
});

describe('activation and heatmap images', () => {
  it('tiles feature maps with 0 dark and the maximum bright, and lays out dense units in a square', () => {
    const values = Float32Array.from([0, 1, 2, 0, 0, 4, 0, 0, 0, 0, 3, 0]); // [2, 2, 3]
    const img = renderActivation([2, 2, 3], values, { zoom: 1, gap: 1 });
    expect([img.width, img.height]).toEqual([7, 7]);
    const c = (t: number) => [...colourScales.viridis(t).map(Math.round), 255];
    expect(pixel(img, 1, 1)).toEqual(c(0)); // channel 0 at (0,0) = 0
    expect(pixel(img, 4, 1)).toEqual(c(0.25)); // channel 1 at (0,0) = 1 of max 4
    expect(pixel(img, 2, 4)).toEqual(c(1)); // channel 2 at (0,1) = 4
    const dense = renderActivation([10], Float32Array.from({ length: 10 }, (_, i) => i - 5), { zoom: 1, gap: 0 });
    expect([dense.width, dense.height]).toEqual([4, 3]);
  });

  it('overlays a heatmap on the input only where it is hot', () => {
    const base = pixelsToImage(new Uint8Array([10, 200, 60, 90]), 2, 2, 1);
    expect(pixel(base, 1, 0)).toEqual([200, 200, 200, 255]);
    const over = overlayHeatmap(base, { width: 2, height: 2, values: Float32Array.from([0, 0, 0, 5]) });
    expect(pixel(over, 0, 0)).toEqual(pixel(base, 0, 0));
    expect(pixel(over, 1, 1)).not.toEqual(pixel(base, 1, 1));
    expect(pixel(renderHeatmap({ width: 2, height: 1, values: Float32Array.from([0, 2]) }), 1, 0)).toEqual([255, 255, 255, 255]);
  });

  it('encodes PNGs that decode back to the same pixels', async () => {
    const img = renderKernels({ name: 'k', shape: [3, 3, 3, 4], values: Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)) });
    const png = await encodePng(img);
    const back = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([back.info.width, back.info.height, back.info.channels]).toEqual([img.width, img.height, 4]);
    expect(Buffer.compare(back.data, Buffer.from(img.data))).toBe(0);
  });
});

describe('kernel timeline', () => {
  it('lists, loads, diffs and follows filter norms over a run’s snapshots', async () => {
    const runDir = path.join(scratch, 'run');
    const at = (scale: number): KernelArray[] => [
      { name: 'conv1', shape: [1, 1, 1, 2], values: Float32Array.from([1 * scale, 2]) },
      { name: 'conv2', shape: [1, 1, 2, 1], values: Float32Array.from([3, 4 * scale]) },
    ];
    const store = await KernelSnapshotStore.open(runDir, at(1), 1 << 20);
    await store.add(0, 0, at(1));
    await store.add(10, 1, at(2));
    await store.add(20, 2, at(3));

    const t = openKernelTimeline(runDir);
    expect(t.snapshots.map((s) => s.step)).toEqual([0, 10, 20]);
    expect(t.layers).toEqual(['conv1', 'conv2']);
    expect(Array.from(loadKernelSnapshot(t, 1, 'conv2')[0].values)).toEqual([3, 8]);
    expect(Array.from(differenceToFirst(t, 2, 'conv1')[0].values)).toEqual([2, 0]);
    const norms = filterNormsOverTime(t, 'conv2');
    expect(norms.steps).toEqual([0, 10, 20]);
    expect(norms.epochs).toEqual([0, 1, 2]);
    expect(norms.norms.map((n) => n[0])).toEqual([5, Math.fround(Math.sqrt(73)), Math.fround(Math.sqrt(153))]);
    expect(() => filterNormsOverTime(t, 'fc1')).toThrow(LayerChoiceError);
    expect(() => loadKernelSnapshot(t, 3)).toThrow(/0 to 2/);

    await unlink(path.join(runDir, 'kernels', t.snapshots[1].file));
    expect(() => openKernelTimeline(runDir)).toThrow(/missing/);
    expect(() => openKernelTimeline(scratch)).toThrow(ModelRefError);
  });
});
