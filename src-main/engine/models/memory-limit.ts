// How much memory one model may take to inspect (weights plus every layer's activations for one image),
// estimated from shapes before anything is allocated, and the setting that caps it.
import os from 'node:os';
import { ConvscopeError } from '../errors';
import { inferShapes, type ModelSpec } from './spec';

const FLOAT = 4;

/** Environment setting: the most bytes a model may need (e.g. 2GiB, 512MiB, 1e9); default this machine's free memory. */
export const MODEL_MEMORY_LIMIT_ENV = 'CONVSCOPE_MODEL_MEMORY_LIMIT';

/** A model whose weights and activations would not fit the memory limit. */
export class ModelTooLargeError extends ConvscopeError {
  constructor(
    message: string,
    readonly estimateBytes: number,
    readonly limitBytes: number,
  ) {
    super(message, 'model-too-large');
    this.name = 'ModelTooLargeError';
  }
}

export interface ModelMemoryEstimate {
  weightBytes: number;
  /** The input and every layer's output for one example (inspection keeps them all). */
  activationBytes: number;
}

export interface ModelMemoryLimit {
  bytes: number;
  source: string;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 };

/** The limit from $CONVSCOPE_MODEL_MEMORY_LIMIT, else the machine's free memory. */
export function modelMemoryLimit(env: NodeJS.ProcessEnv = process.env): ModelMemoryLimit {
  const setting = env[MODEL_MEMORY_LIMIT_ENV]?.trim();
  if (setting) {
    const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)$/i.exec(setting);
    const bytes = m && UNITS[m[2].toLowerCase()] !== undefined ? Number(m[1]) * UNITS[m[2].toLowerCase()] : NaN;
    if (!(bytes > 0)) throw new ConvscopeError(`${MODEL_MEMORY_LIMIT_ENV}=${setting} is not a size (use e.g. 2GiB, 512MiB or a number of bytes)`, 'bad-argument');
    return { bytes, source: `${MODEL_MEMORY_LIMIT_ENV}=${setting}` };
  }
  return { bytes: os.freemem(), source: `this machine's free memory; set ${MODEL_MEMORY_LIMIT_ENV} to change it` };
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The estimate for a spec, from its shape walk (nothing built). */
export function estimateSpecMemory(spec: ModelSpec): ModelMemoryEstimate {
  let params = 0;
  let activations = elements(spec.input);
  for (const info of inferShapes(spec)) {
    params += info.params;
    activations += elements(info.outputShape);
  }
  return { weightBytes: params * FLOAT, activationBytes: activations * FLOAT };
}

/** Throws ModelTooLargeError (one line: the size, its parts and the limit) when `what` would not fit. */
export function checkModelMemory(estimate: ModelMemoryEstimate, what: string, limit: ModelMemoryLimit = modelMemoryLimit()): void {
  const total = estimate.weightBytes + estimate.activationBytes;
  if (total <= limit.bytes) return;
  throw new ModelTooLargeError(
    `${what} needs about ${formatBytes(total)} (weights ${formatBytes(estimate.weightBytes)}, activations for one image ${formatBytes(estimate.activationBytes)}), ` +
      `more than the limit of ${formatBytes(limit.bytes)} (${limit.source}); use a smaller input or width`,
    total,
    limit.bytes,
  );
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
