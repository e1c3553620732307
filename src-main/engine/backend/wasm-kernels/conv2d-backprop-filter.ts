// Conv2DBackpropFilter for the wasm backend, which does not ship it (tfjs issue 8474).
//
// dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*s + kh - top, ow*s + kw - left, ci] * dy[n, oh, ow, co].
// Two ways, chosen by shape:
// - direct: ConvScope's SIMD kernel (assembly/kernels.ts), blocks of taps x output channels summed in
//   registers over every output pixel. For few output channels (LeNet-5's 6 and 16), where XNNPACK's
//   tiles are mostly empty, it is two to three times faster.
// - XNNPACK: the sum is itself a convolution. Take x with batch and channel axes swapped ([ci, H, W, n])
//   as the image and dy as a filter ([oh, ow, n, co]); the stride of the forward pass becomes the
//   dilation of that filter. Input rows past the last window are skipped by padding dy with zero rows.
//   Multi-threaded, and faster for wide layers.
import { tf } from '../../tf';
import { composeWasm, type TensorInfo, type KernelArgs, WASM } from './kernel-call';
import { convGeometry, padToWindows, type Conv2DAttrs } from './conv-geometry';
import { directKernels, makeFloatOutput, offsetOf, readableAfter } from './direct';

type Attrs = Conv2DAttrs & { filterShape: [number, number, number, number] };

/** Output channels up to which the direct kernel is used. */
export const DIRECT_MAX_OUT_CHANNELS = 32;

/** Extra (trailing) rows of input the windows never reach, and how to absorb them. */
function trailing(inSize: number, before: number, outSize: number, stride: number, filterSize: number) {
  const span = (outSize - 1) * stride + filterSize;
  const extra = inSize + before - span;
  if (extra <= 0) return { dyPad: 0, after: -extra };
  const dyPad = Math.ceil(extra / stride);
  return { dyPad, after: dyPad * stride - extra };
}

function viaXnnpack(args: KernelArgs, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { x, dy } = args.inputs;
  const { top, left } = info.padInfo;
  const rows = trailing(info.inHeight, top, info.outHeight, info.strideHeight, info.filterHeight);
  const cols = trailing(info.inWidth, left, info.outWidth, info.strideWidth, info.filterWidth);
  return composeWasm(args.backend, (w) => {
    const image = w.transpose(x, [3, 1, 2, 0]); // [ci, H, W, n]
    let filter = w.transpose(dy, [1, 2, 0, 3]); // [oh, ow, n, co]
    if (rows.dyPad > 0 || cols.dyPad > 0) {
      filter = w.pad(filter, [[0, rows.dyPad], [0, cols.dyPad], [0, 0], [0, 0]]);
    }
    const grad = w.run('Conv2D', { x: image, filter }, {
      strides: [1, 1],
      pad: [[0, 0], [top, rows.after], [left, cols.after], [0, 0]],
      dilations: [info.strideHeight, info.strideWidth],
      dataFormat: 'NHWC',
    }); // [ci, fh, fw, co]
    return w.transpose(grad, [1, 2, 0, 3]);
  });
}

function direct(args: KernelArgs, info: tf.backend_util.Conv2DInfo, filterShape: number[]): TensorInfo {
  const { x, dy } = args.inputs;
  const [n, , , ci] = x.shape;
  const co = filterShape[3];
  return composeWasm(args.backend, (w) => {
    const padded = padToWindows(w, x, info);
    const kPad = Math.ceil((filterShape[0] * filterShape[1] * ci) / 4) * 4;
    // Partial sums of [kPad, co rounded up to 8], then a table of kPad tap offsets.
    const scratch = w.track(makeFloatOutput(args.backend, [kPad * (Math.ceil(co / 8) * 8 + 1)]));
    const dw = makeFloatOutput(args.backend, filterShape);
    directKernels(args.backend).convBackpropFilter(
      offsetOf(args.backend, padded), offsetOf(args.backend, dy), offsetOf(args.backend, dw), offsetOf(args.backend, scratch),
      n, padded.shape[1], padded.shape[2], ci, info.outHeight, info.outWidth, co,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    );
    return dw;
  });
}

export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs as unknown as Attrs;
  const info = convGeometry(x.shape, attrs.filterShape, attrs, 'Conv2DBackpropFilter');
  const co = attrs.filterShape[3];
  // The direct kernel reads dy in 8-channel vectors: up to 7 floats past its last pixel.
  const useDirect = co <= DIRECT_MAX_OUT_CHANNELS && tf.util.sizeFromShape(x.shape) > 0 && readableAfter(args.backend, dy, 32);
  return useDirect ? direct(args, info, attrs.filterShape) : viaXnnpack(args, info);
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};
