// MaxPoolGrad for the wasm backend: ConvScope's direct kernel (assembly/kernels.ts), which follows
// TensorFlow where the shipped one is wrong (windows whose values are all negative, 'same' padding).
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf } from './direct';
import { WASM, type KernelArgs, type TensorInfo } from './kernel-call';

type Attrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

export function maxPoolGradWasm(args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs;
  const attrs = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const dx = makeFloatOutput(args.backend, input.shape);
  if (tf.util.sizeFromShape(input.shape) === 0) return dx;
  directKernels(args.backend).maxPoolGrad(
    offsetOf(args.backend, input), offsetOf(args.backend, dy), offsetOf(args.backend, dx),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: WASM,
  kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
};
