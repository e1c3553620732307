// SmoothGrad (Smilkov et al. 2017): the saliency map (|d score / d input|, max over channels) averaged
// over noisy copies of the input, noise N(0, sigma^2) with sigma a fraction of the input's value range.
import { tf } from '../../tf';
import { batchClassScores, chooseClass, scoreKind } from '../gradients';
import { modelGraph, runGraph } from '../graph';
import { inChunks, toHeatmap, type Attribution, type AttributionOptions } from './target';

export interface SmoothGradOptions extends AttributionOptions {
  /** Default 50 (the paper's). */
  samples?: number;
  /** sigma / (max - min of the input); default 0.15 (the paper recommends 10-20%). */
  noiseLevel?: number;
  /** Seed of the noise (default 0), so maps repeat. */
  seed?: number;
}

/** tfjs draws an unseeded stream for seed 0: every chunk gets its own non-zero seed. */
function noiseSeed(seed: number, chunkStart: number): number {
  return (seed * 100_003 + chunkStart + 1) % 2 ** 31 || 1;
}

export async function smoothGrad(model: tf.LayersModel, x: tf.Tensor4D, options: SmoothGradOptions = {}): Promise<Attribution> {
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const samples = options.samples ?? 50;
  const level = options.noiseLevel ?? 0.15;
  const seed = options.seed ?? 0;
  const [, height, width, channels] = x.shape;
  const map = tf.tidy(() => {
    const sigma = tf.mul(tf.sub(tf.max(x), tf.min(x)), level);
    const saliencies = inChunks(samples, options.batchSize ?? 25, (start, n) => {
      const noise = tf.mul(tf.randomNormal([n, height, width, channels], 0, 1, 'float32', noiseSeed(seed, start)), sigma);
      const noisy = tf.add(x, noise);
      const grads = tf.grad((input: tf.Tensor) => tf.sum(batchClassScores(graph, runGraph(graph, new Map([[graph.input.id, input]])), kind, classIndex)) as tf.Scalar)(noisy);
      return tf.max(tf.abs(grads), -1); // [n, H, W]
    });
    return tf.mean(saliencies, 0);
  });
  return { method: 'smoothgrad', classIndex, score: kind, ...(await toHeatmap(map)) };
}
