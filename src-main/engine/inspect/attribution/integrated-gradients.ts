// Integrated Gradients (Sundararajan et al., ICML 2017): (x - x') times the mean gradient along the
// straight path from the baseline x' to x (midpoint rule). Completeness: the attributions sum to
// score(x) - score(x'), up to the rule's error, returned as a check.
import { tf } from '../../tf';
import { batchClassScores, chooseClass, scoreKind } from '../gradients';
import { modelGraph, runGraph } from '../graph';
import { inChunks, toHeatmap, type Attribution, type AttributionOptions } from './target';

export interface IntegratedGradientsOptions extends AttributionOptions {
  /** Default 50. */
  steps?: number;
  /** [1, h, w, c]; default all zeros in the model's input space (pass a preprocessed black image for "black"). */
  baseline?: tf.Tensor4D;
}

export interface IntegratedGradientsResult extends Attribution {
  /** Sum of all attributions, and score(x) - score(baseline): equal up to the integration error. */
  completeness: { total: number; scoreDifference: number };
}

/** The map is the attributions summed over the input's channels (signed: positive supports the class). */
export async function integratedGradients(model: tf.LayersModel, x: tf.Tensor4D, options: IntegratedGradientsOptions = {}): Promise<IntegratedGradientsResult> {
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const steps = options.steps ?? 50;
  const score = (input: tf.Tensor) => batchClassScores(graph, runGraph(graph, new Map([[graph.input.id, input]])), kind, classIndex);
  const [map, total, difference] = tf.tidy(() => {
    const baseline = options.baseline ?? tf.zerosLike(x);
    const delta = tf.sub(x, baseline);
    const grads = inChunks(steps, options.batchSize ?? 25, (start, n) => {
      const alphas = tf.reshape(tf.div(tf.add(tf.range(start, start + n, 1, 'float32'), 0.5), steps), [n, 1, 1, 1]);
      const path = tf.add(baseline, tf.mul(alphas, delta));
      return tf.grad((input: tf.Tensor) => tf.sum(score(input)) as tf.Scalar)(path);
    });
    const attributions = tf.mul(delta, tf.mean(grads, 0, true));
    const ends = score(tf.concat([x, baseline], 0));
    return [tf.squeeze(tf.sum(attributions, -1), [0]), tf.sum(attributions), tf.sub(tf.slice(ends, [0], [1]), tf.slice(ends, [1], [1]))];
  });
  const [t, d] = await Promise.all([total.data(), difference.data()]);
  tf.dispose([total, difference]);
  return { method: 'integrated-gradients', classIndex, score: kind, completeness: { total: t[0], scoreDifference: d[0] }, ...(await toHeatmap(map)) };
}
