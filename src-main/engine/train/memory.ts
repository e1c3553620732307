// Estimate of the memory one training step needs, from the spec alone (nothing allocated), and the check
// against what the backend can hold.
import os from 'node:os';
import { constants as bufferConstants } from 'node:buffer';
import { formatBytes, modelMemoryLimit } from '../models/memory-limit';
import { inferShapes, type ModelSpec } from '../models/spec';
import { MemoryLimitError } from './errors';
import type { OptimizerConfig } from './optimizers';

export { formatBytes };

const FLOAT = 4;

export interface MemoryEstimate {
  batch: number;
  /** Weights (trainable and not), their gradients, optimizer slots. */
  weightBytes: number;
  gradientBytes: number;
  optimizerBytes: number;
  /** Input batch plus every layer output (and pre-activations, dropout masks) kept for the backward pass. */
  forwardBytes: number;
  /** Gradients with respect to those activations (taken as large as the forward set: an upper bound). */
  backwardBytes: number;
  totalBytes: number;
  /** The largest single tensor (elements), for backends that cap one allocation. */
  largestTensorElements: number;
}

export interface MemoryLimit {
  backend: string;
  totalBytes: number;
  /** Elements one tensor may hold at most (typed-array length limit), if the backend has one below totalBytes. */
  maxTensorElements?: number;
  /** Where the limit comes from, for messages. */
  source: string;
}

export function estimateTrainingMemory(spec: ModelSpec, batch: number, optimizer: OptimizerConfig): MemoryEstimate {
  const infos = inferShapes(spec);
  let params = 0;
  let trainable = 0;
  const inputElements = batch * spec.input.reduce((a, b) => a * b, 1);
  let activations = inputElements;
  let largest = inputElements;
  infos.forEach((info, i) => {
    params += info.params;
    trainable += info.trainableParams;
    const out = batch * info.outputShape.reduce((a, b) => a * b, 1);
    const layer = spec.layers[i];
    // conv/dense keep the pre-activation and the activation; dropout keeps its mask and its output.
    const copies = ((layer.kind === 'conv' || layer.kind === 'dense') && layer.activation !== 'linear') || layer.kind === 'dropout' ? 2 : 1;
    activations += copies * out;
    largest = Math.max(largest, out);
  });
  const slotsPerWeight = optimizer.kind === 'adam' ? 2 : optimizer.momentum > 0 ? 1 : 0;
  const weightBytes = params * FLOAT;
  const gradientBytes = trainable * FLOAT;
  const optimizerBytes = slotsPerWeight * trainable * FLOAT;
  const forwardBytes = activations * FLOAT;
  const backwardBytes = forwardBytes;
  return {
    batch,
    weightBytes,
    gradientBytes,
    optimizerBytes,
    forwardBytes,
    backwardBytes,
    totalBytes: weightBytes + gradientBytes + optimizerBytes + forwardBytes + backwardBytes,
    largestTensorElements: largest,
  };
}

/**
 * What `backend` can hold: wasm's 32-bit linear memory (4 GiB, the maximum tfjs-backend-wasm is built with);
 * cpu tensors are typed arrays in the machine's RAM. Capped by the model memory limit setting (default: the
 * machine's free memory) where that is lower.
 */
export function memoryLimitFor(backend: string): MemoryLimit {
  const own = backendLimit(backend);
  const setting = modelMemoryLimit();
  return setting.bytes < own.totalBytes ? { ...own, totalBytes: setting.bytes, source: setting.source } : own;
}

function backendLimit(backend: string): MemoryLimit {
  if (backend === 'wasm') return { backend, totalBytes: 4 * 2 ** 30, source: 'the wasm backend’s 4 GiB linear memory' };
  const ram = os.totalmem();
  if (backend === 'cpu') {
    return {
      backend,
      totalBytes: ram,
      maxTensorElements: bufferConstants.MAX_LENGTH,
      source: `this machine’s ${formatBytes(ram)} of RAM (cpu tensors are typed arrays of at most ${bufferConstants.MAX_LENGTH.toLocaleString('en-US')} elements)`,
    };
  }
  return { backend, totalBytes: ram, source: `this machine’s ${formatBytes(ram)} of RAM` };
}

/** Throws MemoryLimitError, naming the estimate and the limit, when the step cannot fit. */
export function checkMemory(estimate: MemoryEstimate, limit: MemoryLimit, what: string): void {
  const parts = `weights ${formatBytes(estimate.weightBytes)}, gradients ${formatBytes(estimate.gradientBytes)}, optimizer ${formatBytes(estimate.optimizerBytes)}, activations forward ${formatBytes(estimate.forwardBytes)} + backward ${formatBytes(estimate.backwardBytes)}`;
  if (estimate.totalBytes > limit.totalBytes) {
    throw new MemoryLimitError(
      `${what} at batch ${estimate.batch} needs about ${formatBytes(estimate.totalBytes)} (${parts}), more than the ${limit.backend} backend can hold: ${formatBytes(limit.totalBytes)}, ${limit.source}; use a smaller --batch or model`,
      estimate.totalBytes,
      limit.totalBytes,
    );
  }
  if (limit.maxTensorElements !== undefined && estimate.largestTensorElements > limit.maxTensorElements) {
    throw new MemoryLimitError(
      `${what} at batch ${estimate.batch} needs a tensor of ${estimate.largestTensorElements.toLocaleString('en-US')} elements, more than the ${limit.backend} backend’s limit of ${limit.maxTensorElements.toLocaleString('en-US')}; use a smaller --batch`,
      estimate.largestTensorElements * FLOAT,
      limit.maxTensorElements * FLOAT,
    );
  }
}
