// Score-CAM (Wang et al., CVPR-W 2020): no gradients. Each channel of the chosen layer, upsampled to the
// input and scaled to [0, 1], masks the input; the class score of each masked input, softmaxed over the
// channels, weighs that channel (as pytorch-grad-cam does, on the logit where the model exposes it).
import { tf } from '../../tf';
import { batchClassScores, camLayer, chooseClass, scoreKind } from '../gradients';
import { modelGraph, runGraph } from '../graph';
import { inChunks, toHeatmap, upsample, type Attribution, type AttributionOptions } from './target';

export async function scoreCam(model: tf.LayersModel, x: tf.Tensor4D, options: AttributionOptions = {}): Promise<Attribution> {
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const layer = camLayer(graph, options.layer);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const [, height, width] = x.shape;
  const [coarse, big] = tf.tidy(() => {
    const a = runGraph(graph, new Map([[graph.input.id, x as tf.Tensor]])).get(layer.tensor.id)! as tf.Tensor4D;
    const channels = a.shape[3];
    const up = tf.transpose(tf.image.resizeBilinear(a, [height, width], false, true), [3, 1, 2, 0]); // [K, H, W, 1]
    const lo = tf.min(up, [1, 2, 3], true);
    const range = tf.sub(tf.max(up, [1, 2, 3], true), lo);
    const masks = tf.where(tf.greater(range, 0), tf.div(tf.sub(up, lo), tf.maximum(range, 1e-12)), tf.zerosLike(up));
    const scores = inChunks(channels, options.batchSize ?? 25, (start, n) => {
      const masked = tf.mul(x, tf.slice(masks, [start, 0, 0, 0], [n, -1, -1, -1])) as tf.Tensor4D;
      return batchClassScores(graph, runGraph(graph, new Map([[graph.input.id, masked as tf.Tensor]])), kind, classIndex);
    });
    const weights = tf.softmax(scores);
    const map = tf.squeeze(tf.relu(tf.sum(tf.mul(a, weights), -1)), [0]);
    return [map, upsample(map, height, width)];
  });
  const c = await toHeatmap(coarse);
  return { method: 'scorecam', classIndex, score: kind, layer: layer.name, coarse: c, ...(await toHeatmap(big)) };
}
