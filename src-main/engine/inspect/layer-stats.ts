// Statistics of one layer's output for one image, computed on its typed array (no tensors).
import { SATURATION } from '../train/layer-stats';
import { positiveChannels, summarizeFloats } from '../backend/wasm-kernels/host-kernels';

export interface ActivationStats {
  min: number;
  max: number;
  mean: number;
  /** Fraction of values exactly 0. */
  zeroFraction: number;
}

export function activationStats(values: Float32Array): ActivationStats {
  if (values.length === 0) return { min: 0, max: 0, mean: 0, zeroFraction: 0 };
  const { min, max, sum, zeros } = summarizeFloats(values);
  return { min, max, mean: sum / values.length, zeroFraction: zeros / values.length };
}

/**
 * Channels (last axis) that are zero at every position: for a ReLU output, the units that did not fire
 * for this image. `shape` excludes the batch axis ([h, w, c] or [units]).
 */
export function zeroChannels(values: Float32Array, shape: readonly number[]): number[] {
  const channels = shape[shape.length - 1] ?? 0;
  if (channels === 0) return [];
  const alive = positiveChannels(values, channels);
  const dead: number[] = [];
  for (let c = 0; c < channels; c++) if (!alive[c]) dead.push(c);
  return dead;
}

/** Fraction of values in the flat parts of tanh (|v| > 0.97) or sigmoid (v < 0.03 or v > 0.97). */
export function saturatedFraction(values: Float32Array, activation: 'tanh' | 'sigmoid'): number {
  if (values.length === 0) return 0;
  let n = 0;
  if (activation === 'tanh') {
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > SATURATION) n++;
  } else {
    for (let i = 0; i < values.length; i++) if (values[i] < 1 - SATURATION || values[i] > SATURATION) n++;
  }
  return n / values.length;
}
