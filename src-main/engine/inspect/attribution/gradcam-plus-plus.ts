// Grad-CAM++ (Chattopadhyay et al., WACV 2018): each channel's weight sums its positive gradients, each
// weighted by alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), the closed form for an exponential of the score.
import { tf } from '../../tf';
import { camLayer, chooseClass, layerGradients, scoreKind } from '../gradients';
import { modelGraph } from '../graph';
import { toHeatmap, upsample, type Attribution, type AttributionOptions } from './target';

export async function gradCamPlusPlus(model: tf.LayersModel, x: tf.Tensor4D, options: AttributionOptions = {}): Promise<Attribution> {
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const layer = camLayer(graph, options.layer);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const [coarse, big] = tf.tidy(() => {
    const { a, grads } = layerGradients(graph, kind, x, layer.tensor, classIndex);
    const g2 = tf.square(grads);
    const g3 = tf.mul(g2, grads);
    const denominator = tf.add(tf.mul(g2, 2), tf.mul(tf.sum(a, [1, 2], true), g3));
    const safe = tf.where(tf.notEqual(denominator, 0), denominator, tf.onesLike(denominator));
    const alpha = tf.div(g2, safe);
    const weights = tf.sum(tf.mul(alpha, tf.relu(grads)), [0, 1, 2]); // [channels]
    const map = tf.squeeze(tf.relu(tf.sum(tf.mul(a, weights), -1)), [0]);
    return [map, upsample(map, x.shape[1], x.shape[2])];
  });
  const c = await toHeatmap(coarse);
  return { method: 'gradcam++', classIndex, score: kind, layer: layer.name, coarse: c, ...(await toHeatmap(big)) };
}
