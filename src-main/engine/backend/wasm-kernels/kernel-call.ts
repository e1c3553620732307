// Runs kernels that the wasm backend already has, on TensorInfos that stay in the wasm heap.
// Our own wasm kernels are compositions of these: no tensor is read back to JavaScript and
// nothing is handed to another backend. Intermediates are TensorInfos, not engine Tensors, so the
// composing kernel must dispose each one it creates (see `WasmScope`).
import { tf } from '../../tf';

export type TensorInfo = tf.TensorInfo;
export type KernelArgs = {
  inputs: Record<string, TensorInfo>;
  backend: tf.KernelBackend;
  attrs?: Record<string, unknown>;
};

export const WASM = 'wasm';

/** The part of the wasm backend (BackendWasm) that writes a new tensor from JavaScript values. */
type WasmWriter = {
  makeOutput(shape: number[], dtype: 'int32' | 'float32', memoryOffset: undefined, values: Int32Array | Float32Array): TensorInfo;
};

/** Calls the kernel currently registered under `name` for the wasm backend. */
function runWasmKernel(
  name: string,
  backend: tf.KernelBackend,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const config = tf.getKernel(name, WASM);
  if (!config) throw new Error(`wasm kernel '${name}' is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  if (Array.isArray(out)) throw new Error(`wasm kernel '${name}' returned several outputs`);
  return out;
}

/** Collects intermediates of one composed kernel and disposes them when the kernel is done. */
export class WasmScope {
  private readonly owned: TensorInfo[] = [];
  constructor(readonly backend: tf.KernelBackend) {}

  /** Runs a wasm kernel and keeps its output for disposal. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    const out = runWasmKernel(name, this.backend, inputs, attrs);
    this.owned.push(out);
    return out;
  }

  /** Takes an output made outside `run` (e.g. by a shipped kernel) into the scope. */
  track(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>, constantValue = 0): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue });
  }

  /** A scalar or vector filled in the wasm heap (Fill / Range kernels write, never read). */
  scalar(value: number, dtype: 'float32' | 'int32'): TensorInfo {
    return this.run('Fill', {}, { shape: [], value, dtype });
  }

  /**
   * A constant that depends only on shapes (flat indices, one-hot filters), written into the wasm
   * heap like any new tensor. Never holds data that came from a tensor.
   */
  constant(values: Int32Array | Float32Array, shape: number[]): TensorInfo {
    const dtype = values instanceof Int32Array ? 'int32' : 'float32';
    return this.track((this.backend as unknown as WasmWriter).makeOutput(shape, dtype, undefined, values));
  }

  /** Hands `result` to the caller (not disposed) and disposes every other intermediate. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.owned) if (t !== result) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
    return result;
  }

  /** Disposes every intermediate (used when a composition fails half-way). */
  disposeAll(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` in a scope; on error the intermediates are freed before the error propagates. */
export function composeWasm(backend: tf.KernelBackend, body: (scope: WasmScope) => TensorInfo): TensorInfo {
  const scope = new WasmScope(backend);
  try {
    return scope.finish(body(scope));
  } catch (err) {
    scope.disposeAll();
    throw err;
  }
}
