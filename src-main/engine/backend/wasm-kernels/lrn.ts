// LRN for the wasm backend: ConvScope's direct SIMD kernel (assembly/kernels.ts) for beta 0.75 (the
// paper's and Caffe's) and 0.5, where the power is square roots; the shipped kernel, which calls pow
// for every element, for any other beta.
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf } from './direct';
import { WASM, type KernelArgs, type TensorInfo } from './kernel-call';

type Attrs = { depthRadius: number; bias: number; alpha: number; beta: number };

export function makeLrnConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    const { depthRadius, bias, alpha, beta } = args.attrs as unknown as Attrs;
    if ((beta !== 0.75 && beta !== 0.5) || x.dtype !== 'float32') return shipped.kernelFunc(args as never) as TensorInfo;
    const y = makeFloatOutput(args.backend, x.shape);
    const channels = x.shape[x.shape.length - 1];
    const size = tf.util.sizeFromShape(x.shape);
    if (size === 0) return y;
    directKernels(args.backend).lrn(
      offsetOf(args.backend, x), offsetOf(args.backend, y), size / channels, channels, depthRadius, bias, alpha, beta === 0.75 ? 1 : 0,
    );
    return y;
  };
  return { kernelName: 'LRN', backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
