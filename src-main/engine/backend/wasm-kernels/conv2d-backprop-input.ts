// Conv2DBackpropInput for the wasm backend, as an XNNPACK convolution.
//
// The shipped wasm kernel is a plain C++ loop and the slowest step of LeNet-5 training. The input
// gradient is the convolution of dy (dilated by the stride: zeros between its rows and columns)
// with the filter rotated by 180 degrees and its in/out channels swapped:
//   dx[n, i, j, ci] = sum over kh, kw, co of dyDilated[n, i + kh - (fh-1-top), ...] * W[fh-1-kh, fw-1-kw, ci, co]
// Geometries where that padding would be negative (filter smaller than the stride, or explicit
// padding wider than the filter) go to the shipped kernel, which stays correct for them.
import { tf } from '../../tf';
import { composeWasm, type TensorInfo, type KernelArgs, WASM } from './kernel-call';
import { convGeometry, type Conv2DAttrs } from './conv-geometry';

type Attrs = Conv2DAttrs & { inputShape: [number, number, number, number] };

/** Padding of the dilated dy along one axis; dy dilated by `stride` has outSize*stride rows. */
function transposedPadding(inSize: number, before: number, outSize: number, stride: number, filterSize: number) {
  const padBefore = filterSize - 1 - before;
  const padAfter = inSize + before - outSize * stride;
  return { padBefore, padAfter };
}

export function makeConv2DBackpropInputConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as Attrs;
    const info = convGeometry(attrs.inputShape, filter.shape, attrs, 'Conv2DBackpropInput');
    const rows = transposedPadding(info.inHeight, info.padInfo.top, info.outHeight, info.strideHeight, info.filterHeight);
    const cols = transposedPadding(info.inWidth, info.padInfo.left, info.outWidth, info.strideWidth, info.filterWidth);
    if (Math.min(rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter) < 0) {
      return shipped.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
    }
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    return composeWasm(args.backend, (w) => {
      const flipped = w.run('Reverse', { x: filter }, { dims: [0, 1] });
      const rotated = w.transpose(flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
      let image = dy;
      if (sh > 1 || sw > 1) {
        const [n, oh, ow, co] = dy.shape;
        const spread = w.pad(w.reshape(dy, [n, oh, 1, ow, 1, co]), [
          [0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0],
        ]);
        image = w.reshape(spread, [n, oh * sh, ow * sw, co]);
      }
      return w.run('Conv2D', { x: image, filter: rotated }, {
        strides: [1, 1],
        pad: [[0, 0], [rows.padBefore, rows.padAfter], [cols.padBefore, cols.padAfter], [0, 0]],
        dilations: [1, 1],
        dataFormat: 'NHWC',
      });
    });
  };
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName: WASM,
    setupFunc: shipped.setupFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}
