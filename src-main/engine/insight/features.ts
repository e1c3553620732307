// Feature vectors of a layer for a whole split (default the last hidden layer: the paper's figure 4 uses
// AlexNet's fc7), with the model's prediction for each example, cached as one Float32 file; and the k
// nearest of them to a query by Euclidean distance.
import { tf } from '../tf';
import { layerKind } from '../models/layer-kind';
import type { TrainSplit } from '../train/train-data';
import { LayerChoiceError } from '../inspect/errors';
import { layerOutput, modelGraph, outputStep } from '../inspect/graph';
import { insightKey, modelFingerprint, type InsightCache } from './cache';

export interface FeatureSet {
  layer: string;
  /** Length of one vector. */
  dim: number;
  count: number;
  /** count x dim, row-major. */
  vectors: Float32Array;
  labels: Int32Array;
  /** The model's top-1 class for each example. */
  predicted: Int32Array;
}

export interface FeatureOptions {
  limit?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches once aborted (throwing its reason); nothing is kept. */
  signal?: AbortSignal;
}

/** The last dense layer before the output layer (AlexNet's fc7, LeNet-5's fc2); else the output layer's input. */
export function defaultFeatureLayer(model: tf.LayersModel): string {
  const graph = modelGraph(model);
  const last = outputStep(graph);
  const before = graph.steps.slice(0, graph.steps.indexOf(last));
  const dense = before.filter((s) => layerKind(s.layer) === 'dense').at(-1);
  if (dense) return dense.layer.name;
  const feeding = before.find((s) => s.outputs.some((t) => t.id === last.inputs[0].id));
  if (!feeding) throw new LayerChoiceError(`${model.name}: no layer feeds its output layer; name one with --layer`);
  return feeding.layer.name;
}

const probes = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

/** The model with two outputs: the layer's and the model's own. */
function featureProbe(model: tf.LayersModel, layer: string): tf.LayersModel {
  let byLayer = probes.get(model);
  if (!byLayer) probes.set(model, (byLayer = new Map()));
  const known = byLayer.get(layer);
  if (known) return known;
  const graph = modelGraph(model);
  const out = layerOutput(graph, layer);
  if (!out) throw new LayerChoiceError(`the model has no layer '${layer}' (layers: ${graph.steps.map((s) => s.layer.name).join(', ')})`);
  const probe = tf.model({ inputs: graph.input, outputs: [out.tensor, graph.output], name: `${model.name}_features_${layer}` });
  byLayer.set(layer, probe);
  return probe;
}

/** [n, dim] features and [n] top-1 classes of a preprocessed batch; the caller disposes both. */
export function featuresOf(model: tf.LayersModel, layer: string, x: tf.Tensor4D): [tf.Tensor2D, tf.Tensor1D] {
  return tf.tidy(() => {
    const [f, out] = featureProbe(model, layer).predict(x) as tf.Tensor[];
    return [tf.reshape(f, [x.shape[0], -1]) as tf.Tensor2D, tf.argMax(tf.reshape(out, [x.shape[0], -1]), 1) as tf.Tensor1D];
  });
}

export async function featureVectors(model: tf.LayersModel, layer: string, split: TrainSplit, options: FeatureOptions = {}): Promise<FeatureSet> {
  const count = Math.min(split.size, options.limit ?? split.size);
  const batchSize = options.batchSize ?? 500;
  const dim = featureProbe(model, layer).outputs[0].shape.slice(1).reduce((a: number, b) => a * (b ?? 1), 1);
  const vectors = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  const predicted = new Int32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const batch = await split.batch(Array.from({ length: end - start }, (_, i) => start + i));
    const [f, p] = featuresOf(model, layer, batch.x);
    const [fv, pv, lv] = await Promise.all([f.data(), p.data(), batch.labels.data()]);
    tf.dispose([f, p, batch.x, batch.labels]);
    vectors.set(fv as Float32Array, start * dim);
    predicted.set(pv as Int32Array, start);
    labels.set(lv as Int32Array, start);
    options.onProgress?.(end, count);
    options.signal?.throwIfAborted();
  }
  return { layer, dim, count, vectors, labels, predicted };
}

/** featureVectors, read from the cache (vectors, labels and predictions in one binary file) when done before. */
export async function cachedFeatureVectors(
  model: tf.LayersModel,
  layer: string,
  split: TrainSplit,
  where: { cache: InsightCache; dataset: string; split: string; preprocess: unknown },
  options: FeatureOptions = {},
): Promise<FeatureSet & { cached: boolean }> {
  const key = insightKey(await modelFingerprint(model), where.preprocess, layer, where.dataset, where.split, options.limit ?? null);
  const meta = await where.cache.readJson<{ layer: string; dim: number; count: number }>('features', key);
  const bytes = meta && (await where.cache.readBytes('features', key));
  if (meta && bytes && bytes.byteLength === meta.count * (meta.dim + 2) * 4) {
    const copy = new Uint8Array(bytes).buffer;
    const n = meta.count * meta.dim;
    options.onProgress?.(meta.count, meta.count);
    return {
      ...meta,
      vectors: new Float32Array(copy, 0, n),
      labels: new Int32Array(copy, n * 4, meta.count),
      predicted: new Int32Array(copy, (n + meta.count) * 4, meta.count),
      cached: true,
    };
  }
  const set = await featureVectors(model, layer, split, options);
  const all = new Uint8Array(set.count * (set.dim + 2) * 4);
  all.set(new Uint8Array(set.vectors.buffer, set.vectors.byteOffset, set.vectors.byteLength), 0);
  all.set(new Uint8Array(set.labels.buffer), set.vectors.byteLength);
  all.set(new Uint8Array(set.predicted.buffer), set.vectors.byteLength + set.count * 4);
  await where.cache.writeBytes('features', key, all);
  await where.cache.writeJson('features', key, { layer, dim: set.dim, count: set.count });
  return { ...set, cached: false };
}

export interface Neighbour {
  index: number;
  distance: number;
}

/** The k rows of `vectors` (n x dim) nearest to `query` by Euclidean distance, nearest first (ties: lower index). */
export function nearest(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number): Neighbour[] {
  if (query.length !== dim) throw new LayerChoiceError(`a ${query.length}-long query against ${dim}-long feature vectors`);
  const n = vectors.length / dim;
  const m = Math.min(k, n);
  const bestD: number[] = [];
  const bestI: number[] = [];
  for (let i = 0; i < n; i++) {
    const base = i * dim;
    let d = 0;
    for (let j = 0; j < dim; j++) {
      const t = vectors[base + j] - query[j];
      d += t * t;
    }
    if (bestD.length === m && !(d < bestD[m - 1])) continue;
    let at = bestD.length;
    while (at > 0 && d < bestD[at - 1]) at--;
    bestD.splice(at, 0, d);
    bestI.splice(at, 0, i);
    if (bestD.length > m) {
      bestD.pop();
      bestI.pop();
    }
  }
  return bestI.map((index, i) => ({ index, distance: Math.sqrt(bestD[i]) }));
}
