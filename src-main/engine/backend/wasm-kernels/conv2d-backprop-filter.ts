// Conv2DBackpropFilter for the wasm backend, which does not ship it (tfjs issue 8474).
//
// dW[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*s + kh - top, ow*s + kw - left, ci] * dy[n, oh, ow, co]
// is itself a convolution: take x with batch and channel axes swapped ([ci, H, W, n]) as the image
// and dy as a filter ([oh, ow, n, co]); the stride s of the forward pass becomes the dilation of that
// filter. XNNPACK's Conv2D then does the work. The forward padding is passed to the convolution as
// explicit padding; input rows past the last window (valid padding with a remainder) are skipped by
// padding dy with zero rows, so no slice is needed.
import { tf } from '../../tf';
import { composeWasm, type TensorInfo, type KernelArgs, WASM } from './kernel-call';
import { convGeometry, type Conv2DAttrs } from './conv-geometry';

type Attrs = Conv2DAttrs & { filterShape: [number, number, number, number] };

/** Extra (trailing) rows of input the windows never reach, and how to absorb them. */
function trailing(inSize: number, before: number, outSize: number, stride: number, filterSize: number) {
  const span = (outSize - 1) * stride + filterSize;
  const extra = inSize + before - span;
  if (extra <= 0) return { dyPad: 0, after: -extra };
  const dyPad = Math.ceil(extra / stride);
  return { dyPad, after: dyPad * stride - extra };
}

export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs as unknown as Attrs;
  const info = convGeometry(x.shape, attrs.filterShape, attrs, 'Conv2DBackpropFilter');
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

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM,
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};
