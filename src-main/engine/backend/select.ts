// Chooses and starts the compute backend: tfjs-node-gpu (only when a GPU is really used) > WebGPU on a
// hardware adapter (plain Node only) > tfjs-node > WebAssembly > plain JavaScript. 'auto' falls through
// that order and records why each faster backend was passed over; an explicitly requested backend that
// cannot start is an error. A further backend is one more entry in BACKEND_KINDS and CANDIDATES.
import { tf } from '../tf';
import { BackendUnavailableError, InvalidBackendChoiceError, InvalidThreadsError } from './backend-errors';
import { loadNativeBackend, requireNative, type NativeLoader } from './native-load';
import { probeGpu, probeNode, TFJS_NODE_GPU } from './native-probe';
import { realProbeDeps, type ProbeDeps } from './probe-deps';
import { BACKEND_KINDS, type BackendChoice, type BackendKind, type BackendReport, type SkippedBackend } from './types';
import { MAX_WASM_THREADS } from './threads';
import { activateWasm } from './wasm-backend';
import { activateWebgpu, missingVulkan, WebgpuUnavailableError } from './webgpu';

export type InitBackendOptions = {
  /** The machine as the probes see it (tests pass fakes). */
  deps?: ProbeDeps;
  /** How a native package is required (tests pass a stand-in). */
  loadNative?: NativeLoader;
  /** Threads of the wasm backend (default: CONVSCOPE_THREADS, else the running wasm backend's, else every core). */
  threads?: number;
};

/** A candidate that cannot run here, with the reason shown to the user. */
class Unavailable extends Error {}

type Context = { deps: ProbeDeps; loadNative: NativeLoader; requested: BackendChoice; threads: number | undefined };
type Started = Pick<BackendReport, 'nativePackage' | 'gpuDevice' | 'webgpuAdapter' | 'simd' | 'threads' | 'wasmKernels'> & {
  versions: Record<string, string>;
};

let loadedNative: string | null = null;

function loadNative(pkg: string, ctx: Context) {
  try {
    const info = loadNativeBackend(pkg, ctx.loadNative);
    loadedNative = pkg;
    return info;
  } catch (err) {
    throw new Unavailable(`load error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const CANDIDATES: Record<BackendKind, (ctx: Context) => Promise<Started>> = {
  async gpu(ctx) {
    if (loadedNative !== null && loadedNative !== TFJS_NODE_GPU) {
      throw new Unavailable(`${loadedNative} is already loaded in this process`);
    }
    const probe = await probeGpu(ctx.deps);
    if (!probe.ok) throw new Unavailable(probe.reason);
    const info = loadNative(TFJS_NODE_GPU, ctx);
    if (!info.isUsingGpuDevice) {
      throw new Unavailable('tfjs-node-gpu loaded, but TensorFlow created no GPU device in this process');
    }
    const tensorflow = info.tensorflow ?? probe.tensorflow;
    return {
      nativePackage: TFJS_NODE_GPU,
      gpuDevice: probe.device,
      versions: { 'tfjs-node-gpu': probe.version, ...(tensorflow ? { tensorflow } : {}) },
    };
  },

  async webgpu(ctx) {
    // Under 'auto', do not load Dawn where it cannot find a GPU anyway.
    const missing = ctx.requested === 'auto' ? await missingVulkan(ctx.deps) : null;
    if (missing) throw new Unavailable(missing);
    try {
      const info = await activateWebgpu(ctx.deps, { allowSoftware: ctx.requested === 'webgpu' });
      return { webgpuAdapter: info.adapter, versions: info.versions };
    } catch (err) {
      if (err instanceof WebgpuUnavailableError) throw new Unavailable(err.message);
      throw err;
    }
  },

  async node(ctx) {
    const probe = loadedNative
      ? { ok: true as const, pkg: loadedNative, version: ctx.deps.packageVersion(loadedNative) ?? 'unknown' }
      : probeNode(ctx.deps);
    if (!probe.ok) throw new Unavailable(probe.reason);
    const info = loadNative(probe.pkg, ctx);
    return {
      nativePackage: probe.pkg,
      ...(info.isUsingGpuDevice ? { gpuDevice: 'GPU' } : {}),
      versions: { [probe.pkg.replace('@tensorflow/', '')]: probe.version, ...(info.tensorflow ? { tensorflow: info.tensorflow } : {}) },
    };
  },

  async wasm(ctx) {
    try {
      const info = await activateWasm(ctx.deps.env, ctx.threads);
      return { simd: info.simd, threads: info.threads, wasmKernels: info.kernels, versions: { 'tfjs-backend-wasm': info.version } };
    } catch (err) {
      throw new Unavailable(err instanceof Error ? err.message : String(err));
    }
  },

  async cpu() {
    if (!(await tf.setBackend('cpu'))) throw new Unavailable('the JavaScript backend failed to initialise');
    return { versions: {} };
  },
};

/** Reads a backend choice (a CLI flag, a config value or CONVSCOPE_BACKEND); throws on anything else. */
export function parseBackendChoice(value: string, source = 'backend'): BackendChoice {
  const v = value.trim().toLowerCase();
  if (v === 'auto' || (BACKEND_KINDS as readonly string[]).includes(v)) return v as BackendChoice;
  throw new InvalidBackendChoiceError(value, source);
}

/** Reads a thread count (a CLI flag, a config value or CONVSCOPE_THREADS); throws a one-line error on anything else. */
export function parseThreads(value: string | number, source = 'threads'): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new InvalidThreadsError(`${source} must be a whole number from 1 to ${MAX_WASM_THREADS} (got '${value}')`);
  }
  return n;
}

/**
 * Starts a backend and reports what was chosen and why the faster ones were not.
 * `choice` defaults to the CONVSCOPE_BACKEND environment variable, else 'auto'.
 */
export async function initBackend(choice?: BackendChoice | string, options: InitBackendOptions = {}): Promise<BackendReport> {
  const deps = options.deps ?? realProbeDeps();
  const fromEnv = deps.env.CONVSCOPE_BACKEND;
  const requested =
    choice !== undefined
      ? parseBackendChoice(choice)
      : fromEnv
        ? parseBackendChoice(fromEnv, 'CONVSCOPE_BACKEND')
        : 'auto';
  const threads = options.threads ?? (deps.env.CONVSCOPE_THREADS ? parseThreads(deps.env.CONVSCOPE_THREADS, 'CONVSCOPE_THREADS') : undefined);
  const ctx: Context = { deps, loadNative: options.loadNative ?? requireNative, requested, threads };
  const order: readonly BackendKind[] = requested === 'auto' ? BACKEND_KINDS : [requested];
  const skipped: SkippedBackend[] = [];
  for (const kind of order) {
    let started: Started;
    try {
      started = await CANDIDATES[kind](ctx);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      if (requested !== 'auto') throw new BackendUnavailableError(kind, err.message);
      skipped.push({ backend: kind, reason: err.message });
      continue;
    }
    await tf.ready();
    const { versions, ...rest } = started;
    return {
      requested,
      chosen: kind,
      tfBackend: tf.getBackend(),
      skipped,
      versions: {
        tfjs: tf.version.tfjs,
        node: process.versions.node,
        ...(process.versions.electron ? { electron: process.versions.electron } : {}),
        ...versions,
      },
      ...rest,
    };
  }
  // 'cpu' is last in BACKEND_KINDS and only fails if tfjs itself is broken.
  throw new BackendUnavailableError('cpu', skipped.map((s) => `${s.backend}: ${s.reason}`).join('; '));
}
