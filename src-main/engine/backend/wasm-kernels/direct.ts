// ConvScope's own wasm kernels (assembly/kernels.ts), instantiated on the wasm backend's own memory so
// that they read and write tensors where they lie: no copy, nothing read back to JavaScript.
import { tf } from '../../tf';
import { SHARED_MEMORY_KERNELS, UNSHARED_MEMORY_KERNELS } from './direct-binary';
import type { TensorInfo } from './kernel-call';

export type DirectKernels = {
  maxPoolGrad(
    x: number, dy: number, dx: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, top: number, left: number,
  ): void;
  lrn(x: number, y: number, positions: number, c: number, r: number, bias: number, alpha: number, threeQuarters: number): void;
  convBackpropFilter(
    x: number, dy: number, dw: number, scratch: number,
    n: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw_: number,
  ): void;
  addBias(x: number, bias: number, y: number, size: number, c: number, pattern: number): void;
  sumRows(x: number, y: number, size: number, c: number, partial: number): void;
  conv2d(
    x: number, f: number, bias: number, y: number, taps: number,
    n: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw_: number, relu: number,
  ): void;
  tanh(x: number, y: number, size: number): void;
  tanhGrad(y: number, dy: number, dx: number, size: number): void;
  convBackpropInput(
    dy: number, wt: number, dxp: number,
    n: number, hp: number, wp: number, ci: number, oh: number, ow: number, co: number,
    fh: number, run: number, sh: number, sw: number,
  ): void;
  crop(src: number, dst: number, n: number, hs: number, ws: number, h: number, w: number, c: number, top: number, left: number): void;
};

/** The parts of tfjs-backend-wasm's BackendWasm that place tensors in its memory. */
type BackendWasmLike = {
  wasm: EmscriptenModule;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
};
/** The threaded build keeps its memory in wasmMemory, the single-threaded one exports it. */
type EmscriptenModule = {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  tfjs?: { getThreadsCount?: () => number };
};

const instances = new WeakMap<EmscriptenModule, DirectKernels>();

function memoryOf(module: EmscriptenModule): WebAssembly.Memory {
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the wasm backend does not expose its memory');
  return memory;
}

function instantiate(module: EmscriptenModule): DirectKernels {
  const memory = memoryOf(module);
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = Buffer.from(shared ? SHARED_MEMORY_KERNELS : UNSHARED_MEMORY_KERNELS, 'base64');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as DirectKernels;
}

/** Our kernels on `backend`'s memory (instantiated once per backend module). */
export function directKernels(backend: tf.KernelBackend): DirectKernels {
  const module = (backend as unknown as BackendWasmLike).wasm;
  let kernels = instances.get(module);
  if (!kernels) {
    kernels = instantiate(module);
    instances.set(module, kernels);
  }
  return kernels;
}

/** Whether `bytes` more can be read past the end of `t`'s data without leaving the backend's memory. */
export function readableAfter(backend: tf.KernelBackend, t: TensorInfo, bytes: number): boolean {
  const end = offsetOf(backend, t) + tf.util.sizeFromShape(t.shape) * 4;
  return end + bytes <= memoryOf((backend as unknown as BackendWasmLike).wasm).buffer.byteLength;
}

/** The index in heapWords of a byte offset: unsigned, since a wasm memory may pass 2 GiB (AlexNet training does). */
export function wordIndex(byteOffset: number): number {
  return byteOffset >>> 2;
}

/** The backend's whole memory as 32-bit words (a fresh view: the memory may have grown). */
export function heapWords(backend: tf.KernelBackend): Int32Array {
  return new Int32Array(memoryOf((backend as unknown as BackendWasmLike).wasm).buffer);
}

/** Threads of the backend's XNNPACK pool (1 where the module cannot say). */
export function poolThreads(backend: tf.KernelBackend): number {
  return (backend as unknown as BackendWasmLike).wasm.tfjs?.getThreadsCount?.() ?? 1;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function offsetOf(backend: tf.KernelBackend, t: TensorInfo): number {
  const entry = (backend as unknown as BackendWasmLike).dataIdMap.get(t.dataId);
  if (!entry) throw new Error('tensor is not in the wasm backend');
  return entry.memoryOffset;
}

/** A new tensor of `dtype` in the backend's memory, not initialised. */
export function makeOutput(backend: tf.KernelBackend, shape: number[], dtype: 'float32' | 'int32'): TensorInfo {
  return (backend as unknown as BackendWasmLike).makeOutput(shape, dtype);
}

/** A new float32 tensor in the backend's memory, not initialised. */
export function makeFloatOutput(backend: tf.KernelBackend, shape: number[]): TensorInfo {
  return makeOutput(backend, shape, 'float32');
}
