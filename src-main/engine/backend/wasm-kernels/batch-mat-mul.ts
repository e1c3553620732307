// BatchMatMul for the wasm backend with transposed operands.
//
// The shipped kernel uses XNNPACK only for an untransposed product with batch 1; with transposeA or
// transposeB (every dense-layer gradient: x^T dy and dy W^T) it runs a plain C++ triple loop. For
// batch 1 we transpose the operand explicitly (a wasm Transpose) and call the shipped kernel's
// XNNPACK path. XNNPACK packs its right operand (the weights) on every call, and with few rows on
// the left it streams the packed matrix once per tile of rows: so when the right operand is the big
// one (a dense layer's input gradient dy W^T, W [9216, 4096] in AlexNet) the product is computed as
// (op(B)^T op(A)^T)^T instead, whichever moves fewer elements. Batched products go to the shipped
// kernel unchanged.
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
    const size = (t: TensorInfo) => t.shape.reduce((p, q) => p * q, 1);
    const [rows, cols] = [a.shape.at(transposeA ? -1 : -2)!, b.shape.at(transposeB ? -2 : -1)!];
    // Elements transposed or packed: directly, op(A) and op(B) made and B packed; swapped, op(A)^T
    // and op(B)^T made, A packed and the product transposed back.
    const direct = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0) + size(b);
    const swapped = (transposeB ? 0 : size(b)) + (transposeA ? 0 : size(a)) + size(a) + rows * cols;
    const product = (w: WasmScope, left: TensorInfo, right: TensorInfo) =>
      w.track(shipped.kernelFunc({ inputs: { a: left, b: right }, backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo);
    return composeWasm(args.backend, (w) => {
      const c = swapped < direct
        ? w.transpose(product(w, matrix(w, b, !transposeB), matrix(w, a, !transposeA)), [1, 0])
        : product(w, matrix(w, a, transposeA), matrix(w, b, transposeB));
      return w.reshape(c, [...new Array<number>(outRank - 2).fill(1), rows, cols]);
    });
  };
  return {
    kernelName: 'BatchMatMul',
    backendName: WASM,
    setupFunc: shipped.setupFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}
