// Deletion and insertion curves (Petsiuk, Das, Saenko, "RISE", BMVC 2018): the class probability as the
// input's pixels are removed (set to a fill value) or inserted (into a blurred copy) in order of
// decreasing attribution, `stepSize` pixels (all their channels) at a time. Deletion: a lower area under
// the curve is more faithful; insertion: a higher one.
import { tf } from '../../tf';
import type { Heatmap } from '../gradients';
import { InspectModelError } from '../errors';
import { classProbabilities, inChunks } from './target';

export type DeletionFill = 'zero' | 'mean';

export interface CurveOptions {
  /** Pixels changed per step (default: the pixel count / 50, rounded up). */
  stepSize?: number;
  /** Deletion: removed pixels become 0 in the model's input space (default) or the image's per-channel mean. */
  fill?: DeletionFill;
  /** Insertion's start: a Gaussian blur of this sigma in pixels (default: max(2, 5 x side / 224), RISE's 5 at 224). */
  blurSigma?: number;
  /** Inputs per forward pass (default 64). */
  batchSize?: number;
}

export interface Curve {
  /** Fraction of the pixels removed or inserted at each point, from 0 to 1. */
  xs: number[];
  /** The class probability there. */
  ys: number[];
  /** Trapezoid area under ys over xs. */
  auc: number;
}

export interface FaithfulnessCurves {
  deletion: Curve;
  insertion: Curve;
  stepSize: number;
  fill: DeletionFill;
  blurSigma: number;
}

/** RISE's blur (sigma 5 at 224 pixels) scaled to the image, at least 2 pixels. */
export function defaultBlurSigma(height: number, width: number): number {
  return Math.max(2, (5 * Math.max(height, width)) / 224);
}

/** Pixel indices by decreasing value; ties keep index order. */
export function rankPixels(map: Heatmap): Float32Array {
  const n = map.values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => map.values[b] - map.values[a] || a - b);
  const rank = new Float32Array(n);
  order.forEach((pixel, i) => (rank[pixel] = i));
  return rank;
}

/** Gaussian blur of each channel, normalised at the borders (the kernel's weights inside the image sum to 1). */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    const radius = Math.max(1, Math.ceil(3 * sigma));
    const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
    const sum = taps.reduce((a, b) => a + b, 0);
    const k = tf.tensor1d(taps.map((t) => t / sum));
    const channels = x.shape[3];
    const rows = tf.tile(tf.reshape(k, [2 * radius + 1, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const cols = tf.tile(tf.reshape(k, [1, 2 * radius + 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const blur = (t: tf.Tensor4D) => tf.depthwiseConv2d(tf.depthwiseConv2d(t, rows, 1, 'same'), cols, 1, 'same');
    return tf.div(blur(x), blur(tf.onesLike(x))) as tf.Tensor4D;
  });
}

function trapezoid(xs: number[], ys: number[]): number {
  let area = 0;
  for (let i = 1; i < xs.length; i++) area += ((xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1])) / 2;
  return area;
}

/** Both curves for one input [1, h, w, c], its map (h x w) and the class explained. */
export async function faithfulnessCurves(model: tf.LayersModel, x: tf.Tensor4D, map: Heatmap, classIndex: number, options: CurveOptions = {}): Promise<FaithfulnessCurves> {
  const [, height, width] = x.shape;
  if (map.height !== height || map.width !== width) throw new InspectModelError(`a ${map.height}x${map.width} map does not fit a ${height}x${width} input`);
  const pixels = height * width;
  const stepSize = options.stepSize ?? Math.ceil(pixels / 50);
  if (!(Number.isInteger(stepSize) && stepSize >= 1)) throw new InspectModelError(`the step size must be a whole number of pixels >= 1, got ${stepSize}`);
  const fill = options.fill ?? 'zero';
  const blurSigma = options.blurSigma ?? defaultBlurSigma(height, width);
  const thresholds: number[] = [];
  for (let t = 0; t < pixels; t += stepSize) thresholds.push(t);
  thresholds.push(pixels);
  const rank = rankPixels(map);
  const [deleted, inserted] = tf.tidy(() => {
    const ranks = tf.tensor4d(rank, [1, height, width, 1]);
    const base = fill === 'zero' ? tf.zerosLike(x) : tf.mul(tf.onesLike(x), tf.mean(x, [1, 2], true));
    const blurred = gaussianBlur(x, blurSigma);
    const probs = (start: number, n: number, from: tf.Tensor, to: tf.Tensor) => {
      // Pixels of rank < threshold take `to`, the rest `from`.
      const t = tf.reshape(tf.tensor1d(thresholds.slice(start, start + n)), [n, 1, 1, 1]);
      const changed = tf.less(ranks, t); // [n, h, w, 1]
      const shape = [n, height, width, x.shape[3]];
      const batch = tf.where(tf.broadcastTo(changed, shape), tf.broadcastTo(to, shape), tf.broadcastTo(from, shape));
      return classProbabilities(model, batch as tf.Tensor4D, classIndex);
    };
    const size = options.batchSize ?? 64;
    return [inChunks(thresholds.length, size, (s, n) => probs(s, n, x, base)), inChunks(thresholds.length, size, (s, n) => probs(s, n, blurred, x))];
  });
  const [d, i] = (await Promise.all([deleted.data(), inserted.data()])) as Float32Array[];
  tf.dispose([deleted, inserted]);
  const xs = thresholds.map((t) => t / pixels);
  const curve = (ys: Float32Array): Curve => ({ xs, ys: Array.from(ys), auc: trapezoid(xs, Array.from(ys)) });
  return { deletion: curve(d), insertion: curve(i), stepSize, fill, blurSigma };
}
