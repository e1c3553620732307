// What every attribution method shares: the map type, the class to explain, class probabilities for a
// batch of inputs, and the batched loop over many inputs.
import { tf } from '../../tf';
import { layerActivation } from '../../models/layer-kind';
import type { Heatmap, ScoreKind } from '../gradients';
import { outputStep, modelGraph } from '../graph';

import { ATTRIBUTION_METHOD_IDS } from '../../../contract/attribution';

/** The method ids, as the contract names them. */
export const ATTRIBUTION_METHODS = ATTRIBUTION_METHOD_IDS;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

export function isAttributionMethod(id: string): id is AttributionMethod {
  return (ATTRIBUTION_METHODS as readonly string[]).includes(id);
}

/** One method's map for one input, at the input's height and width (larger = more important). */
export interface Attribution extends Heatmap {
  method: AttributionMethod;
  classIndex: number;
  score: ScoreKind;
  /** CAM methods: the layer read and the map at that layer's resolution. */
  layer?: string;
  coarse?: Heatmap;
}

export interface AttributionOptions {
  /** Default: the top prediction. */
  classIndex?: number;
  /** CAM methods: the layer (default: the last convolution). */
  layer?: string;
  /** Inputs per forward/backward pass for the methods that run many (default 25). */
  batchSize?: number;
}

/** Softmax probability of class c for each input of a batch, [n] (inside tf.tidy). */
export function classProbabilities(model: tf.LayersModel, x: tf.Tensor4D, c: number): tf.Tensor1D {
  const out = model.predict(x) as tf.Tensor2D;
  const probs = layerActivation(outputStep(modelGraph(model)).layer) === 'softmax' ? out : tf.softmax(out);
  return tf.reshape(tf.slice(probs, [0, c], [-1, 1]), [-1]) as tf.Tensor1D;
}

/** Runs `f` on consecutive slices of `count` items, at most `size` at a time; f's results are concatenated (inside tf.tidy). */
export function inChunks(count: number, size: number, f: (start: number, n: number) => tf.Tensor): tf.Tensor {
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < count; start += size) parts.push(f(start, Math.min(size, count - start)));
  return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
}

/** A [1, h, w] or [h, w] map tensor resized (bilinear, half-pixel centres) to height x width, as [h, w]. */
export function upsample(map: tf.Tensor, height: number, width: number): tf.Tensor2D {
  const [h, w] = map.shape.slice(-2);
  const x = tf.reshape(map, [1, h, w, 1]) as tf.Tensor4D;
  return tf.reshape(h === height && w === width ? x : tf.image.resizeBilinear(x, [height, width], false, true), [height, width]) as tf.Tensor2D;
}

/** Reads a [h, w] map tensor into a Heatmap and disposes it. */
export async function toHeatmap(map: tf.Tensor): Promise<Heatmap> {
  const [height, width] = map.shape;
  const values = (await map.data()) as Float32Array;
  map.dispose();
  return { width, height, values };
}
