// Engine records in the contract's shapes: tensors with their shapes, typed arrays for per-channel data.
import { tensor, type Tensor } from '../../contract/common';
import type { Nonlinearity } from '../../contract/models';
import type { LayerStatsRecord, RunStatus } from '../../contract/training';
import type { LayerStatsRecord as EngineLayerStatsRecord, RunStatus as EngineRunStatus } from '../train';

export function f32(shape: readonly number[], data: Float32Array): Tensor<'float32'> {
  return tensor('float32', shape, data);
}

const KNOWN: ReadonlySet<string> = new Set(['linear', 'relu', 'tanh', 'sigmoid', 'softmax', 'other']);

/** A layer's activation name as the contract names nonlinearities (unknown ones are 'other'). */
export function nonlinearity(activation: string | null): Nonlinearity {
  if (activation === null) return null;
  return (KNOWN.has(activation) ? activation : 'other') as Nonlinearity;
}

export function layerStatsRecord(r: EngineLayerStatsRecord): LayerStatsRecord {
  return {
    step: r.step,
    epoch: r.epoch,
    probeSize: r.probeSize,
    layers: r.layers.map(({ deadFraction, activation, ...rest }) => ({
      ...rest,
      activation: nonlinearity(activation),
      ...(deadFraction ? { deadFraction: Float32Array.from(deadFraction) } : {}),
    })),
  };
}

/** status.json without the process id. */
export function runStatus(s: EngineRunStatus): RunStatus {
  return { state: s.state, updatedAt: s.updatedAt, globalStep: s.globalStep, epoch: s.epoch, ...(s.message !== undefined ? { message: s.message } : {}) };
}

/** The array typed as the contract's (ArrayBuffer-backed); a copy only if it lives in shared memory. */
export function plainF32(a: Float32Array): Float32Array<ArrayBuffer> {
  return a.buffer instanceof ArrayBuffer ? (a as Float32Array<ArrayBuffer>) : new Float32Array(a);
}

export function plainI32(a: Int32Array): Int32Array<ArrayBuffer> {
  return a.buffer instanceof ArrayBuffer ? (a as Int32Array<ArrayBuffer>) : new Int32Array(a);
}
