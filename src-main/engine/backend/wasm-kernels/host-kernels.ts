// ConvScope's wasm kernels on a private memory, for typed arrays held in JavaScript (an inspection's
// activations, read back from any backend): the values are copied in and reduced with SIMD, which is
// several times faster than a JavaScript loop whose branches (a ReLU output's zeros) mispredict.
import { UNSHARED_MEMORY_KERNELS } from './direct-binary';

type HostKernels = {
  summarize(x: number, size: number, out: number): void;
  positiveChannels(x: number, size: number, c: number, alive: number): void;
};

const PAGE = 65536;
const VALUES_AT = 64;

let host: { memory: WebAssembly.Memory; kernels: HostKernels } | null = null;

/** The kernels, with room for `bytes` past VALUES_AT. */
function kernelsFor(bytes: number): { memory: WebAssembly.Memory; kernels: HostKernels } {
  const needed = Math.ceil((VALUES_AT + bytes) / PAGE);
  if (!host) {
    const memory = new WebAssembly.Memory({ initial: needed, maximum: 65536 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(UNSHARED_MEMORY_KERNELS, 'base64')), { env: { memory } });
    host = { memory, kernels: instance.exports as unknown as HostKernels };
  }
  const pages = host.memory.buffer.byteLength / PAGE;
  if (needed > pages) host.memory.grow(needed - pages);
  return host;
}

export type FloatSummary = { min: number; max: number; sum: number; zeros: number };

/** Minimum and maximum (NaN skipped), float64 sum and count of zeros of `values`. */
export function summarizeFloats(values: Float32Array): FloatSummary {
  const { memory, kernels } = kernelsFor(values.byteLength);
  new Float32Array(memory.buffer, VALUES_AT, values.length).set(values);
  kernels.summarize(VALUES_AT, values.length, 0);
  const [min, max, sum, zeros] = new Float64Array(memory.buffer, 0, 4);
  return { min, max, sum, zeros };
}

/** Per channel (the last axis, `channels` wide), whether any value is above 0. */
export function positiveChannels(values: Float32Array, channels: number): Uint8Array {
  const aliveAt = VALUES_AT + Math.ceil(values.byteLength / 16) * 16;
  const { memory, kernels } = kernelsFor(aliveAt - VALUES_AT + channels * 4);
  new Float32Array(memory.buffer, VALUES_AT, values.length).set(values);
  kernels.positiveChannels(VALUES_AT, values.length, channels, aliveAt);
  return Uint8Array.from(new Int32Array(memory.buffer, aliveAt, channels), (v) => (v ? 1 : 0));
}
