// The two bias operations of every training step, as ConvScope's direct kernels: Add of a per-channel
// vector (a bias) to an NHWC tensor, and Sum over every axis but the last (that bias's gradient). The
// shipped wasm Add broadcasts element by element; the shipped Sum transposes the reduced axes to the end
// first. Any other Add or Sum goes to the shipped kernel.
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf } from './direct';
import { composeWasm, WASM, type KernelArgs, type TensorInfo } from './kernel-call';

/** Floats in one period of a c-channel pattern that is a whole number of 4-float vectors. */
const period = (c: number) => (c % 4 === 0 ? c : c % 2 === 0 ? 2 * c : 4 * c);

/** `x`'s channel count if `bias` is a per-channel vector of it ([c] or [1, ..., 1, c]). */
function biasChannels(x: TensorInfo, bias: TensorInfo): number | null {
  const c = x.shape.at(-1);
  if (c === undefined || x.dtype !== 'float32' || bias.dtype !== 'float32') return null;
  if (bias.shape.length > x.shape.length || bias.shape.at(-1) !== c || tf.util.sizeFromShape(bias.shape) !== c) return null;
  return tf.util.sizeFromShape(x.shape) > c ? c : null;
}

export function makeAddConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { a, b } = args.inputs;
    const [x, bias] = biasChannels(a, b) !== null ? [a, b] : biasChannels(b, a) !== null ? [b, a] : [null, null];
    if (!x || !bias) return shipped.kernelFunc(args as never) as TensorInfo;
    const c = x.shape.at(-1)!;
    return composeWasm(args.backend, (w) => {
      const pattern = w.track(makeFloatOutput(args.backend, [period(c)]));
      const y = makeFloatOutput(args.backend, x.shape);
      directKernels(args.backend).addBias(offsetOf(args.backend, x), offsetOf(args.backend, bias), offsetOf(args.backend, y), tf.util.sizeFromShape(x.shape), c, offsetOf(args.backend, pattern));
      return y;
    });
  };
  return { kernelName: 'Add', backendName: WASM, setupFunc: shipped.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

type SumAttrs = { axis: number | number[]; keepDims: boolean };

export function makeSumConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const rank = x.shape.length;
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0) return shipped.kernelFunc(args as never) as TensorInfo;
    const c = x.shape[rank - 1];
    return composeWasm(args.backend, (w) => {
      const partial = w.track(makeFloatOutput(args.backend, [period(c)]));
      const y = makeFloatOutput(args.backend, keepDims ? [...new Array<number>(rank - 1).fill(1), c] : [c]);
      directKernels(args.backend).sumRows(offsetOf(args.backend, x), offsetOf(args.backend, y), tf.util.sizeFromShape(x.shape), c, offsetOf(args.backend, partial));
      return y;
    });
  };
  return { kernelName: 'Sum', backendName: WASM, setupFunc: shipped.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
