// Zeiler and Fergus' top activating patches: one pass over a split through the model cut at a conv or
// pooling layer keeps, for every channel, the k examples whose strongest unit in that channel is the
// highest, with that unit and its receptive field in the input.
import { tf } from '../tf';
import { layerKind } from '../models/layer-kind';
import type { DataSplit } from '../data/dataset';
import type { TrainSplit } from '../train/train-data';
import { LayerChoiceError } from '../inspect/errors';
import { layerOutput, modelGraph } from '../inspect/graph';
import { insightKey, modelFingerprint, type InsightCache } from './cache';
import { receptiveField, unitWindow, type ReceptiveField, type Window } from './receptive-field';

export interface TopPatch {
  /** The unit's activation. */
  value: number;
  /** The example's index in the split. */
  index: number;
  label: number;
  /** The unit in the layer's output. */
  row: number;
  col: number;
  /** Its receptive field in the model's input, clipped at the border. */
  window: Window;
}

export interface TopPatches {
  layer: string;
  channels: number;
  k: number;
  /** Examples looked at. */
  examples: number;
  field: ReceptiveField;
  /** Per channel, best first. */
  patches: TopPatch[][];
}

export interface TopPatchOptions {
  k?: number;
  /** The first n examples only. */
  limit?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches once aborted (throwing its reason); nothing is cached. */
  signal?: AbortSignal;
}

const truncated = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

/** The model from its input to a layer's output (shares the layers and weights; cached per model). */
export function modelUpTo(model: tf.LayersModel, layer: string): tf.LayersModel {
  let byLayer = truncated.get(model);
  if (!byLayer) truncated.set(model, (byLayer = new Map()));
  const known = byLayer.get(layer);
  if (known) return known;
  const graph = modelGraph(model);
  const out = layerOutput(graph, layer);
  if (!out) throw new LayerChoiceError(`the model has no layer '${layer}' (layers: ${graph.steps.map((s) => s.layer.name).join(', ')})`);
  const cut = tf.model({ inputs: graph.input, outputs: out.tensor, name: `${model.name}_to_${layer}` });
  byLayer.set(layer, cut);
  return cut;
}

/** Layers whose channels have spatial units: conv and pooling layers. */
export function patchLayers(model: tf.LayersModel): string[] {
  return modelGraph(model)
    .steps.filter((s) => ['conv', 'maxPool', 'avgPool'].includes(layerKind(s.layer)) && s.outputs[0].shape.length === 4)
    .map((s) => s.layer.name);
}

export async function topPatches(model: tf.LayersModel, layer: string, split: TrainSplit, options: TopPatchOptions = {}): Promise<TopPatches> {
  if (!patchLayers(model).includes(layer)) {
    throw new LayerChoiceError(`top patches need a conv or pooling layer; '${layer}' is not one (choose from ${patchLayers(model).join(', ')})`);
  }
  const k = options.k ?? 9;
  if (!Number.isInteger(k) || k < 1) throw new LayerChoiceError(`k must be a whole number >= 1, got ${k}`);
  const total = Math.min(split.size, options.limit ?? split.size);
  const batchSize = options.batchSize ?? 256;
  const cut = modelUpTo(model, layer);
  const [, h, w, channels] = cut.outputs[0].shape as number[];
  const field = receptiveField(model, layer);
  // Per channel: values (descending) and their (example, position) in parallel arrays of at most k.
  const values = Array.from({ length: channels }, () => [] as number[]);
  const where = Array.from({ length: channels }, () => [] as [number, number, number][]);
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const batch = await split.batch(Array.from({ length: end - start }, (_, i) => start + i));
    const [max, arg] = tf.tidy(() => {
      const out = tf.reshape(cut.predict(batch.x) as tf.Tensor, [end - start, h * w, channels]);
      return [tf.max(out, 1), tf.argMax(out, 1)];
    });
    const [maxV, argV, labels] = await Promise.all([max.data(), arg.data(), batch.labels.data()]);
    tf.dispose([max, arg, batch.x, batch.labels]);
    for (let i = 0; i < end - start; i++) {
      for (let c = 0; c < channels; c++) {
        const v = maxV[i * channels + c];
        const vs = values[c];
        if (vs.length === k && !(v > vs[k - 1])) continue;
        let at = vs.length;
        while (at > 0 && v > vs[at - 1]) at--;
        vs.splice(at, 0, v);
        where[c].splice(at, 0, [start + i, argV[i * channels + c], labels[i]]);
        if (vs.length > k) {
          vs.pop();
          where[c].pop();
        }
      }
    }
    options.onProgress?.(end, total);
    options.signal?.throwIfAborted();
  }
  const patches = values.map((vs, c) =>
    vs.map((value, j): TopPatch => {
      const [index, position, label] = where[c][j];
      const row = Math.floor(position / w);
      const col = position % w;
      return { value, index, label, row, col, window: unitWindow(field, row, col) };
    }),
  );
  return { layer, channels, k, examples: total, field, patches };
}

/**
 * The patches' pixels from the stored examples (HWC uint8, the window scaled to the stored size where the
 * model resizes its data), per channel, in the order of `result.patches`.
 */
export async function patchPixels(result: TopPatches, stored: DataSplit): Promise<{ width: number; height: number; channels: number; pixels: Uint8Array }[][]> {
  const indices = [...new Set(result.patches.flat().map((p) => p.index))];
  const read = await stored.read(indices);
  const [sh, sw, sc] = stored.shape;
  const [ih, iw] = result.field.input;
  const size = sh * sw * sc;
  const slot = new Map(indices.map((index, i) => [index, i]));
  return result.patches.map((ps) =>
    ps.map((p) => {
      const top = Math.floor((p.window.top * sh) / ih);
      const left = Math.floor((p.window.left * sw) / iw);
      const height = Math.max(1, Math.min(sh - top, Math.round((p.window.height * sh) / ih)));
      const width = Math.max(1, Math.min(sw - left, Math.round((p.window.width * sw) / iw)));
      const image = read.images.subarray(slot.get(p.index)! * size, (slot.get(p.index)! + 1) * size);
      const pixels = new Uint8Array(width * height * sc);
      for (let y = 0; y < height; y++) pixels.set(image.subarray(((top + y) * sw + left) * sc, ((top + y) * sw + left + width) * sc), y * width * sc);
      return { width, height, channels: sc, pixels };
    }),
  );
}

/** topPatches, read from the cache when this model (by its weights), layer, split, limit and k were done before. */
export async function cachedTopPatches(
  model: tf.LayersModel,
  layer: string,
  split: TrainSplit,
  where: { cache: InsightCache; dataset: string; split: string; preprocess: unknown },
  options: TopPatchOptions = {},
): Promise<TopPatches & { cached: boolean }> {
  const key = insightKey(await modelFingerprint(model), where.preprocess, layer, where.dataset, where.split, options.limit ?? null, options.k ?? 9);
  const hit = await where.cache.readJson<TopPatches>('top-patches', key);
  if (hit && hit.layer === layer && hit.patches?.length === hit.channels) {
    options.onProgress?.(hit.examples, hit.examples);
    return { ...hit, cached: true };
  }
  const result = await topPatches(model, layer, split, options);
  await where.cache.writeJson('top-patches', key, result);
  return { ...result, cached: false };
}
