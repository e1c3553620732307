// Per-layer statistics on a fixed probe batch: dead ReLU channels, saturated tanh/sigmoid units, and the
// gradient norm of each layer's trainable weights. Layers are recognised by class and activation config
// (layerKind / layerActivation), never by name.
import { tf } from '../tf';
import { layerActivation, layerKind, type LayerKind } from '../models/layer-kind';
import { forward } from './forward';

/** |tanh| above this, or sigmoid outside [1 - this, this], counts as saturated. */
export const SATURATION = 0.97;

export interface LayerStats {
  layer: string;
  kind: LayerKind;
  activation: string | null;
  /** ReLU outputs: per channel, the fraction of probe images on which the channel is zero everywhere. */
  deadFraction?: number[];
  /** ReLU outputs: channels zero on every probe image. */
  deadChannels?: number;
  channels?: number;
  /** tanh / sigmoid outputs: fraction of all units (every position, channel and probe image) saturated. */
  saturatedFraction?: number;
  /** Layers with trainable weights: L2 norm of all their weight gradients together (from the step's batch). */
  gradientNorm?: number;
}

export interface LayerStatsRecord {
  step: number;
  epoch: number;
  probeSize: number;
  layers: LayerStats[];
}

/**
 * Runs the probe batch through the chain in inference mode and measures every layer's output.
 * `gradNorms` maps layer name -> norm (see gradientNormsByLayer). `onOutput` sees each layer's output
 * inside the pass's tf.tidy (tf.keep what is kept).
 */
export async function probeLayerStats(
  layers: readonly tf.layers.Layer[],
  probe: tf.Tensor,
  gradNorms: ReadonlyMap<string, number>,
  onOutput?: (layer: tf.layers.Layer, out: tf.Tensor) => void,
): Promise<LayerStats[]> {
  const pending: { stats: LayerStats; dead?: tf.Tensor; saturated?: tf.Tensor }[] = [];
  tf.tidy(() => {
    forward(layers, probe, {
      training: false,
      onOutput: (layer, _i, out) => {
        onOutput?.(layer, out);
        const activation = layerActivation(layer);
        const stats: LayerStats = { layer: layer.name, kind: layerKind(layer), activation };
        const gradientNorm = gradNorms.get(layer.name);
        if (gradientNorm !== undefined) stats.gradientNorm = gradientNorm;
        const entry: (typeof pending)[number] = { stats };
        if (activation === 'relu') entry.dead = tf.keep(deadPerChannel(out));
        if (activation === 'tanh' || activation === 'sigmoid') entry.saturated = tf.keep(saturatedFraction(out, activation));
        pending.push(entry);
      },
    });
  });
  const out: LayerStats[] = [];
  for (const { stats, dead, saturated } of pending) {
    if (dead) {
      const fractions = Array.from(await dead.data());
      dead.dispose();
      stats.deadFraction = fractions;
      stats.channels = fractions.length;
      stats.deadChannels = fractions.filter((f) => f === 1).length;
    }
    if (saturated) {
      stats.saturatedFraction = (await saturated.data())[0];
      saturated.dispose();
    }
    out.push(stats);
  }
  return out;
}

/** [channels]: fraction of images whose channel is <= 0 at every position (ReLU output exactly zero). */
function deadPerChannel(out: tf.Tensor): tf.Tensor1D {
  const spatialMax = out.rank === 4 ? tf.max(out, [1, 2]) : out; // [batch, channels]
  return tf.mean(tf.cast(tf.lessEqual(spatialMax, 0), 'float32'), 0) as tf.Tensor1D;
}

function saturatedFraction(out: tf.Tensor, activation: 'tanh' | 'sigmoid'): tf.Scalar {
  const saturated = activation === 'tanh' ? tf.greater(tf.abs(out), SATURATION) : tf.logicalOr(tf.less(out, 1 - SATURATION), tf.greater(out, SATURATION));
  return tf.mean(tf.cast(saturated, 'float32'));
}

/** Which layer owns each parameter (by its stable name), for grouping gradients. */
export function paramOwners(layers: readonly tf.layers.Layer[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const layer of layers) for (const w of layer.trainableWeights) owners.set(w.originalName, layer.name);
  return owners;
}

/** L2 norm per layer over all its gradients; `names[i]` is the stable name of `grads[i]`. */
export async function gradientNormsByLayer(names: readonly string[], grads: readonly tf.Tensor[], owners: ReadonlyMap<string, string>): Promise<Map<string, number>> {
  const layerNames = [...new Set(names.map((n) => owners.get(n) ?? n))];
  const sums = tf.tidy(() => {
    const perLayer = layerNames.map((layer) => {
      const squares = names.flatMap((n, i) => ((owners.get(n) ?? n) === layer ? [tf.sum(tf.square(grads[i]))] : []));
      return tf.sqrt(tf.addN(squares));
    });
    return tf.stack(perLayer);
  });
  const values = await sums.data();
  sums.dispose();
  return new Map(layerNames.map((l, i) => [l, values[i]]));
}
