// Dense pixel data (activation maps, kernels, input images) to RGBA pixels. Pure: the Svelte canvases
// put the result on screen, tests check it in Node.
import type { PixelScale, Rgb } from '../theme/colours';

/** A height x width x channels block of numbers in HWC order (as tfjs lays out NHWC without N). */
export interface HwcTensor {
  data: ArrayLike<number>;
  height: number;
  width: number;
  channels: number;
}

export interface Range {
  min: number;
  max: number;
}

/** Min and max of one channel of an HWC tensor (NaN-free data assumed; empty gives 0..0). */
export function channelRange(t: HwcTensor, channel: number): Range {
  let min = Infinity;
  let max = -Infinity;
  const n = t.height * t.width;
  for (let i = 0; i < n; i++) {
    const v = t.data[i * t.channels + channel];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return n === 0 ? { min: 0, max: 0 } : { min, max };
}

/** Min and max over every value. */
export function tensorRange(data: ArrayLike<number>): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return data.length === 0 ? { min: 0, max: 0 } : { min, max };
}

/** True when every value of the channel is exactly zero (a dead ReLU map for this input). */
export function channelIsZero(t: HwcTensor, channel: number): boolean {
  const n = t.height * t.width;
  for (let i = 0; i < n; i++) if (t.data[i * t.channels + channel] !== 0) return false;
  return true;
}

/** One channel painted with a colour scale: RGBA, width x height. */
export function channelToRgba(t: HwcTensor, channel: number, scale: PixelScale, out = new Uint8ClampedArray(t.width * t.height * 4)): Uint8ClampedArray {
  const c: Rgb = [0, 0, 0];
  const n = t.height * t.width;
  for (let i = 0; i < n; i++) {
    scale.rgb(t.data[i * t.channels + channel], c);
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * An image-like tensor (1 or 3 channels) to RGBA, each channel stretched from [min, max] to [0, 255]
 * (min and max over the whole tensor, so colours keep their balance).
 */
export function imageToRgba(t: HwcTensor, range: Range = tensorRange(t.data)): Uint8ClampedArray {
  if (t.channels !== 1 && t.channels !== 3) throw new Error(`imageToRgba: expected 1 or 3 channels, got ${t.channels}`);
  const out = new Uint8ClampedArray(t.width * t.height * 4);
  const span = range.max - range.min || 1;
  const n = t.height * t.width;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = t.data[i * t.channels + (t.channels === 3 ? k : 0)];
      out[i * 4 + k] = ((v - range.min) / span) * 255;
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Conv weights as tfjs stores them: [kernelH, kernelW, inChannels (per group), outChannels]. */
export interface KernelTensor {
  data: ArrayLike<number>;
  kh: number;
  kw: number;
  inChannels: number;
  outChannels: number;
}

/** Kernel k's weight at (y, x, input channel c). */
export function kernelAt(k: KernelTensor, y: number, x: number, c: number, out: number): number {
  return k.data[((y * k.kw + x) * k.inChannels + c) * k.outChannels + out];
}

/**
 * One kernel as an image: with 3 input channels (a first layer on RGB) its RGB weights, stretched per
 * kernel so zero sits mid-grey; otherwise the mean over input channels through a diverging scale.
 */
export function kernelToRgba(k: KernelTensor, out: number, scale: PixelScale | null): Uint8ClampedArray {
  const px = new Uint8ClampedArray(k.kh * k.kw * 4);
  if (k.inChannels === 3 && scale === null) {
    let absMax = 0;
    for (let y = 0; y < k.kh; y++) for (let x = 0; x < k.kw; x++) for (let c = 0; c < 3; c++) absMax = Math.max(absMax, Math.abs(kernelAt(k, y, x, c, out)));
    const s = absMax || 1;
    for (let y = 0; y < k.kh; y++) {
      for (let x = 0; x < k.kw; x++) {
        const i = (y * k.kw + x) * 4;
        for (let c = 0; c < 3; c++) px[i + c] = 127.5 + (kernelAt(k, y, x, c, out) / s) * 127.5;
        px[i + 3] = 255;
      }
    }
    return px;
  }
  if (scale === null) throw new Error('kernelToRgba: a colour scale is needed for kernels without 3 input channels');
  const c: Rgb = [0, 0, 0];
  for (let y = 0; y < k.kh; y++) {
    for (let x = 0; x < k.kw; x++) {
      let sum = 0;
      for (let ch = 0; ch < k.inChannels; ch++) sum += kernelAt(k, y, x, ch, out);
      scale.rgb(sum / k.inChannels, c);
      const i = (y * k.kw + x) * 4;
      px[i] = c[0];
      px[i + 1] = c[1];
      px[i + 2] = c[2];
      px[i + 3] = 255;
    }
  }
  return px;
}

/** The mean-over-input-channels image of kernel `out` (what kernelToRgba paints for deep layers). */
export function kernelMeanRange(k: KernelTensor): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let o = 0; o < k.outChannels; o++) {
    for (let y = 0; y < k.kh; y++) {
      for (let x = 0; x < k.kw; x++) {
        let sum = 0;
        for (let ch = 0; ch < k.inChannels; ch++) sum += kernelAt(k, y, x, ch, o);
        const v = sum / k.inChannels;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}

/** L2 norm of each kernel (one number per output channel). */
export function kernelNorms(k: KernelTensor): Float32Array {
  const norms = new Float32Array(k.outChannels);
  for (let i = 0; i < k.data.length; i++) {
    const o = i % k.outChannels;
    norms[o] += k.data[i] * k.data[i];
  }
  for (let o = 0; o < k.outChannels; o++) norms[o] = Math.sqrt(norms[o]);
  return norms;
}

/** Element-wise a - b (difference-from-init mode). */
export function subtract(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new Error(`subtract: lengths differ (${a.length} and ${b.length})`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * A heat map (height x width, row-major, any range) blended over RGBA pixels of the same size: the
 * map's colour shows where it is strong, the image shows through where it is weak.
 */
export function overlayRgba(base: Uint8ClampedArray, map: ArrayLike<number>, scale: PixelScale, opacity = 0.65): Uint8ClampedArray {
  if (base.length !== map.length * 4) throw new Error(`overlayRgba: ${map.length} map values for ${base.length / 4} pixels`);
  const out = new Uint8ClampedArray(base.length);
  const c: Rgb = [0, 0, 0];
  const [, hi] = scale.domain;
  for (let i = 0; i < map.length; i++) {
    scale.rgb(map[i], c);
    const a = opacity * Math.max(0, Math.min(1, map[i] / (hi || 1)));
    for (let k = 0; k < 3; k++) out[i * 4 + k] = base[i * 4 + k] * (1 - a) + c[k] * a;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** A batch of stored images ([n, h, w, c] bytes, 0-255, 1 or 3 channels) as one RGBA picture each. */
export function batchToRgba(data: Uint8Array, shape: readonly number[]): { rgba: Uint8ClampedArray; width: number; height: number }[] {
  const [n, height, width, channels] = shape;
  if (shape.length !== 4) throw new Error(`batchToRgba: expected [n, h, w, c], got ${JSON.stringify(shape)}`);
  const size = height * width * channels;
  return Array.from({ length: n }, (_, i) => ({
    rgba: imageToRgba({ data: data.subarray(i * size, (i + 1) * size), height, width, channels }, { min: 0, max: 255 }),
    width,
    height,
  }));
}
