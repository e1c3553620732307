// Loads tfjs-backend-wasm's threaded SIMD build in plain Node (and Electron's utility process), which
// tfjs itself refuses there (flag WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue 3830):
// its worker script ships only as a string of JavaScript, and its C++ caps XNNPACK's thread pool at
// half the logical cores (num_cores = emscripten_num_logical_cores() / 2). The package is used as
// installed: the Emscripten glue is configured through its documented Module options.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import workerThreads from 'node:worker_threads';

const require = createRequire(import.meta.url);
const GLUE = 'tfjs-backend-wasm-threaded-simd.js';
const BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';
const WORKER_SCRIPT = 'tfjs-backend-wasm-threaded-simd.worker.js';
/** What locateFile answers for the pthread worker script; the Worker constructor below recognises it. */
const WORKER_MARK = 'convscope:wasm-pthread-worker';

/** The Emscripten module as tfjs's BackendWasm expects it (its own init() adds the same `tfjs` wrappers). */
export type ThreadedWasmModule = {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => unknown;
  PThread: { terminateAllThreads(): void; runningWorkers: { unref(): void }[]; unusedWorkers: { terminate(): Promise<number> }[] };
  tfjs?: Record<string, unknown>;
};

type ModuleConfig = {
  locateFile: (file: string) => string;
  mainScriptUrlOrBlob: string;
  instantiateWasm: (imports: { env: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => object;
};

/** The package's wasm-out folder; in a packaged app its unpacked copy, which the pool workers can read. */
function packageDir(): string {
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const unpacked = dir.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  return unpacked !== dir && existsSync(unpacked) ? unpacked : dir;
}

/**
 * Instantiates the threaded SIMD module with an XNNPACK pool of up to `threads` threads.
 * `binaryDir`: where the .wasm binary is when it is not in the package (packaged apps).
 */
export async function loadThreadedWasm(threads: number, binaryDir?: string): Promise<ThreadedWasmModule> {
  const dir = packageDir();
  const glue = path.join(dir, GLUE);
  // The worker script is shipped as module.exports.wasmWorkerContents, a template literal whose "\n"
  // escapes became real newlines inside string literals (tfjs escapes them again the same way).
  const workerSource = (require(path.join(dir, WORKER_SCRIPT)) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  const factory = require(glue) as (config: ModuleConfig) => Promise<ThreadedWasmModule>;
  const binary = readFileSync(path.join(binaryDir ?? dir, BINARY));
  const config: ModuleConfig = {
    locateFile: (file) => (file.endsWith('.worker.js') ? WORKER_MARK : path.join(dir, file)),
    // Each pthread worker evaluates this file to get the module factory.
    mainScriptUrlOrBlob: glue,
    instantiateWasm(imports, receive) {
      // num_cores = this / 2 caps the pool: report 2 x threads so the cap is the count asked for.
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(binary, imports as WebAssembly.Imports).then(
        ({ instance, module }) => receive(instance, module),
        (err: unknown) => rejectLoad(err),
      );
      return {};
    },
  };
  let rejectLoad: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (rejectLoad = reject));
  // The glue allocates its 8 pool workers synchronously with `new Worker(locateFile(...))`, taking
  // Worker from worker_threads at that moment: swap in one that runs the shipped script from source.
  const NodeWorker = workerThreads.Worker;
  class PthreadWorker extends NodeWorker {
    constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
      if (file === WORKER_MARK) super(workerSource, { eval: true });
      else super(file, options);
    }
  }
  // Idle pool workers are unref'd: keep the process alive until the module is ready.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const writable = workerThreads as { Worker: typeof NodeWorker };
  writable.Worker = PthreadWorker;
  try {
    const ready = factory(config);
    writable.Worker = NodeWorker;
    return await Promise.race([ready, failed]);
  } finally {
    writable.Worker = NodeWorker;
    clearInterval(keepAlive);
  }
}

/** Adds the `tfjs` wrappers that BackendWasm calls (as tfjs-backend-wasm's own init() does). */
export function withTfjsBindings(module: ThreadedWasmModule): ThreadedWasmModule {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}
