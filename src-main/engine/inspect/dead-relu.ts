// Dead ReLUs of any model on demand: for each ReLU layer and channel, the fraction of a fixed probe set
// on which the channel is zero everywhere. The measurement itself is the trainer's (train/layer-stats),
// so numbers from training and from inspection agree; here it runs in chunks to bound memory.
import { tf } from '../tf';
import { TrainConfigError } from '../train/errors';
import { chainLayers } from '../train/forward';
import { probeLayerStats } from '../train/layer-stats';
import type { TrainSplit } from '../train/train-data';
import { InspectModelError } from './errors';

export interface DeadReluLayer {
  layer: string;
  channels: number;
  /** Per channel: fraction of probe images on which it is zero at every position. */
  deadFraction: Float32Array;
  /** Channels zero on every probe image. */
  dead: number[];
}

export interface DeadReluReport {
  probeSize: number;
  layers: DeadReluLayer[];
}

export interface DeadReluOptions {
  /** The first n examples of the split (default 256, the held-out probe set). */
  probeSize?: number;
  /** Images per forward pass (default 32). */
  batchSize?: number;
}

export async function deadRelus(model: tf.LayersModel, split: TrainSplit, options: DeadReluOptions = {}): Promise<DeadReluReport> {
  let layers: tf.layers.Layer[];
  try {
    layers = chainLayers(model);
  } catch (err) {
    if (err instanceof TrainConfigError) throw new InspectModelError(`dead-ReLU statistics need a chain of layers: ${err.message.replace(/; training needs a chain of layers$/, '')}`);
    throw err;
  }
  const probeSize = Math.min(split.size, options.probeSize ?? 256);
  const batchSize = options.batchSize ?? 32;
  const counts = new Map<string, Float64Array>();
  for (let start = 0; start < probeSize; start += batchSize) {
    const end = Math.min(probeSize, start + batchSize);
    const batch = await split.batch(Array.from({ length: end - start }, (_, i) => start + i));
    try {
      for (const stats of await probeLayerStats(layers, batch.x, new Map())) {
        if (!stats.deadFraction) continue;
        const c = counts.get(stats.layer) ?? new Float64Array(stats.deadFraction.length);
        // Back from a fraction of this chunk to a count of images.
        stats.deadFraction.forEach((f, i) => (c[i] += Math.round(f * (end - start))));
        counts.set(stats.layer, c);
      }
    } finally {
      tf.dispose([batch.x, batch.labels]);
    }
  }
  return {
    probeSize,
    layers: [...counts].map(([layer, c]) => ({
      layer,
      channels: c.length,
      deadFraction: Float32Array.from(c, (n) => n / probeSize),
      dead: Array.from(c.keys()).filter((i) => c[i] === probeSize),
    })),
  };
}
