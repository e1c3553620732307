// Conv2D for the wasm backend: ConvScope's direct SIMD kernel (assembly/kernels.ts) for a convolution
// with few input channels (LeNet-5's: 1 and 6) on a single-threaded backend (data-parallel workers,
// --threads 1), where XNNPACK's packing and indirection cost more than the arithmetic: 1.2 ms against
// 1.8 ms for LeNet-5's first layer at batch 128. The shipped XNNPACK kernel otherwise: with a pool of
// threads it wins.
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf, poolThreads, readableAfter } from './direct';
import { composeWasm, WASM, type KernelArgs, type TensorInfo } from './kernel-call';

type Attrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** Input channels up to which the direct kernel is used (on one thread). */
export const DIRECT_MAX_IN_CHANNELS = 8;

export function conv2dDirect(backend: tf.KernelBackend, x: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [n, h, wd, ci] = x.shape;
  const { top, left } = info.padInfo;
  const below = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - top - h);
  const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - left - wd);
  return composeWasm(backend, (w) => {
    const padded = top || left || below || right ? w.pad(x, [[0, 0], [top, below], [left, right], [0, 0]]) : x;
    const taps = w.track(makeFloatOutput(backend, [info.filterHeight * info.filterWidth * ci]));
    const y = makeFloatOutput(backend, [n, info.outHeight, info.outWidth, info.outChannels]);
    directKernels(backend).conv2d(
      offsetOf(backend, padded), offsetOf(backend, filter), offsetOf(backend, y), offsetOf(backend, taps),
      n, padded.shape[1], padded.shape[2], ci, info.outHeight, info.outWidth, info.outChannels,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    );
    return y;
  });
}

export function makeConv2DConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x, filter } = args.inputs;
    const attrs = args.attrs as unknown as Attrs;
    const ci = x.shape[3];
    // The direct kernel reads the filter in 8-channel vectors: up to 7 floats past its end.
    const direct = attrs.dataFormat === 'NHWC' && ci <= DIRECT_MAX_IN_CHANNELS && x.dtype === 'float32' && filter.dtype === 'float32'
      && tf.util.sizeFromShape(x.shape) > 0 && poolThreads(args.backend) === 1 && readableAfter(args.backend, filter, 32);
    if (!direct) return shipped.kernelFunc(args as never) as TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
    );
    return conv2dDirect(args.backend, x, filter, info);
  };
  return { kernelName: 'Conv2D', backendName: WASM, setupFunc: shipped.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
