// Conv2D and FusedConv2D (bias, then linear or ReLU) for the wasm backend: ConvScope's direct SIMD kernel
// (assembly/kernels.ts) for a convolution with few input channels (LeNet-5's 1 and 6) on a
// single-threaded backend (data-parallel workers, --threads 1), where XNNPACK's packing and indirection
// cost more than the arithmetic: at batch 128, LeNet-5's first layer takes 1.2 ms against 1.8 ms, its
// second 0.85 ms against 1.2 ms. The shipped XNNPACK kernels otherwise: with a pool of threads they win.
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf, poolThreads, readableAfter } from './direct';
import { composeWasm, WASM, type KernelArgs, type TensorInfo } from './kernel-call';
import { convGeometry, padToWindows, type Conv2DAttrs } from './conv-geometry';

type Attrs = Conv2DAttrs & { dilations: [number, number] | number; activation?: string };

/** Input channels up to which the direct kernel is used (on one thread). */
export const DIRECT_MAX_IN_CHANNELS = 8;

function conv2dDirect(backend: tf.KernelBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | null, relu: boolean, attrs: Attrs): TensorInfo {
  const info = convGeometry(x.shape, filter.shape, attrs, 'Conv2D', attrs.dilations);
  const [n, , , ci] = x.shape;
  return composeWasm(backend, (w) => {
    const padded = padToWindows(w, x, info);
    const taps = w.track(makeFloatOutput(backend, [info.filterHeight * info.filterWidth * ci]));
    const y = makeFloatOutput(backend, [n, info.outHeight, info.outWidth, info.outChannels]);
    directKernels(backend).conv2d(
      offsetOf(backend, padded), offsetOf(backend, filter), bias ? offsetOf(backend, bias) : 0, offsetOf(backend, y), offsetOf(backend, taps),
      n, padded.shape[1], padded.shape[2], ci, info.outHeight, info.outWidth, info.outChannels,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, relu ? 1 : 0,
    );
    return y;
  });
}

/** Whether the direct kernel takes this convolution. It reads filter and bias in 8-float vectors: up to 7 past their ends. */
function direct(backend: tf.KernelBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | null, attrs: Attrs): boolean {
  const co = filter.shape[3];
  return attrs.dataFormat === 'NHWC' && x.shape[3] <= DIRECT_MAX_IN_CHANNELS && tf.util.sizeFromShape(x.shape) > 0
    && [x, filter, ...(bias ? [bias] : [])].every((t) => t.dtype === 'float32')
    && (!bias || (tf.util.sizeFromShape(bias.shape) === co && bias.shape.at(-1) === co && readableAfter(backend, bias, 32)))
    && poolThreads(backend) === 1 && readableAfter(backend, filter, 32);
}

export function makeConv2DConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x, filter } = args.inputs;
    const attrs = args.attrs as unknown as Attrs;
    if (!direct(args.backend, x, filter, null, attrs)) return shipped.kernelFunc(args as never) as TensorInfo;
    return conv2dDirect(args.backend, x, filter, null, false, attrs);
  };
  return { kernelName: 'Conv2D', backendName: WASM, setupFunc: shipped.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export function makeFusedConv2DConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const attrs = args.attrs as unknown as Attrs;
    const activation = attrs.activation ?? 'linear';
    const fusable = (activation === 'linear' || activation === 'relu') && !preluActivationWeights;
    if (!fusable || !direct(args.backend, x, filter, bias ?? null, attrs)) return shipped.kernelFunc(args as never) as TensorInfo;
    return conv2dDirect(args.backend, x, filter, bias ?? null, activation === 'relu', attrs);
  };
  return { kernelName: 'FusedConv2D', backendName: WASM, setupFunc: shipped.setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
