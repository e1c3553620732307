// BatchMatMul for the wasm backend with transposed operands.
//
// The shipped kernel uses XNNPACK only for an untransposed product with batch 1; with transposeA or
// transposeB (every dense-layer gradient: x^T dy and dy W^T) it runs a plain C++ triple loop. For
// batch 1 we transpose the operand explicitly (a wasm Transpose) and call the shipped kernel's
// XNNPACK path. Batched products go to the shipped kernel unchanged.
import { tf } from '../../tf';
import { composeWasm, type WasmScope, type TensorInfo, type KernelArgs, WASM } from './kernel-call';

type Attrs = { transposeA: boolean; transposeB: boolean };

const batchOf = (shape: number[]) => shape.slice(0, -2).reduce((a, b) => a * b, 1);

/** The 2D matrix of `t` ([..., r, c] with a batch of 1), transposed if asked. */
function matrix(w: WasmScope, t: TensorInfo, transposed: boolean): TensorInfo {
  const [r, c] = t.shape.slice(-2);
  const m = w.reshape(t, [r, c]);
  return transposed ? w.transpose(m, [1, 0]) : m;
}

export function makeBatchMatMulConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as unknown as Attrs;
    const plain = !transposeA && !transposeB;
    if (plain || batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return shipped.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
    }
    const outRank = Math.max(a.shape.length, b.shape.length);
    return composeWasm(args.backend, (w) => {
      const product = w.track(shipped.kernelFunc({
        inputs: { a: matrix(w, a, transposeA), b: matrix(w, b, transposeB) },
        backend: args.backend,
        attrs: { transposeA: false, transposeB: false },
      }) as TensorInfo);
      const [rows, cols] = product.shape;
      return w.reshape(product, [...new Array<number>(outRank - 2).fill(1), rows, cols]);
    });
  };
  return {
    kernelName: 'BatchMatMul',
    backendName: WASM,
    setupFunc: shipped.setupFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}
