// Activates the WebAssembly backend (XNNPACK, SIMD, a pool of threads) and registers the kernels
// training needs.
import { tf } from '../tf';
import { registerWasmTrainingKernels, type WasmKernelChange } from './wasm-kernels/register';
import { defaultThreads, MAX_WASM_THREADS } from './threads';
import { loadThreadedWasm, withTfjsBindings } from './wasm-threaded';

export type WasmBackendInfo = {
  version: string;
  simd: boolean;
  threads: number;
  kernels: WasmKernelChange[];
};

/** The thread count the registered 'wasm' backend was created with (null: the factory has not run). */
let createdWith: number | null = null;

function registerThreaded(wasm: typeof import('@tensorflow/tfjs-backend-wasm'), threads: number, binaryDir: string | undefined) {
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = withTfjsBindings(await loadThreadedWasm(threads, binaryDir));
      wasm.setThreadsCount(threads);
      createdWith = threads;
      // BackendWasm reads only the Emscripten module's exports and the `tfjs` bindings.
      const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<typeof wasm.BackendWasm>[0]);
      // XNNPACK's pool threads (started by the constructor) wait between operations: they must not keep
      // the process alive once its own work is done. The glue's other pre-started workers are not needed
      // (a later thread would get a new one): each holds a JavaScript heap.
      for (const worker of module.PThread.runningWorkers) worker.unref();
      for (const worker of module.PThread.unusedWorkers) void worker.terminate();
      module.PThread.unusedWorkers = [];
      return backend;
    },
    2,
  );
}

/**
 * Imports tfjs-backend-wasm, selects it with `asked` XNNPACK threads (default: the running backend's
 * count, else every core), and makes it
 * able to train CNNs. A different thread count than the running one starts the backend anew: tensors
 * of the old one are gone. Throws if it cannot start.
 */
export async function activateWasm(env: Record<string, string | undefined> = process.env, asked?: number): Promise<WasmBackendInfo> {
  const threads = asked ?? createdWith ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`threads must be a whole number from 1 to ${MAX_WASM_THREADS} (got ${threads})`);
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (createdWith !== threads) {
    createdWith = null;
    registerThreaded(wasm, threads, env.CONVSCOPE_WASM_PATH);
  }
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('the WebAssembly backend failed to initialise (its .wasm binary could not be loaded)');
  }
  await tf.ready();
  const kernels = registerWasmTrainingKernels();
  return {
    version: wasm.version_wasm,
    simd: true,
    threads: wasm.getThreadsCount(),
    kernels,
  };
}
