// Shapes and paddings of a 2D convolution as ConvScope's convolution kernels need them.
import { tf } from '../../tf';
import type { TensorInfo, WasmScope } from './kernel-call';

export type Conv2DAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The convolution x (NHWC) * filter [fh, fw, in, out] (a gradient's: undilated). */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: Conv2DAttrs,
  kernelName: string,
  dilations: [number, number] | number = 1,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm supports data format NHWC only, got ${attrs.dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * `x` padded so that every window of the convolution lies inside it: the padding before (top, left) and
 * as many rows and columns after as the last window reaches past the input. Window (r, q) then starts at
 * row r * strideHeight, column q * strideWidth (what the direct kernels expect).
 */
export function padToWindows(w: WasmScope, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [, h, wd] = x.shape;
  const { top, left } = info.padInfo;
  const below = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - top - h);
  const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - left - wd);
  return top || left || below || right ? w.pad(x, [[0, 0], [top, below], [left, right], [0, 0]]) : x;
}
