// Activates the WebAssembly backend (XNNPACK, SIMD) and registers the kernels training needs.
import { tf } from '../tf';
import { registerWasmTrainingKernels, type WasmKernelChange } from './wasm-kernels/register';

export type WasmBackendInfo = {
  version: string;
  simd: boolean;
  threads: number;
  kernels: WasmKernelChange[];
};

/** Imports tfjs-backend-wasm, selects it, and makes it able to train CNNs. Throws if it cannot start. */
export async function activateWasm(env: Record<string, string | undefined> = process.env): Promise<WasmBackendInfo> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Where the .wasm binaries are when they are not next to the package's JavaScript (packaged apps).
  if (env.CONVSCOPE_WASM_PATH) wasm.setWasmPaths(env.CONVSCOPE_WASM_PATH);
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('the WebAssembly backend failed to initialise (its .wasm binary could not be loaded)');
  }
  await tf.ready();
  const kernels = registerWasmTrainingKernels();
  return {
    version: wasm.version_wasm,
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    threads: wasm.getThreadsCount(),
    kernels,
  };
}
