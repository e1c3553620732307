// Shapes and paddings of a 2D convolution as the gradient kernels need them.
import { tf } from '../../tf';

export type Conv2DAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The convolution x (NHWC) * filter [fh, fw, in, out] that the gradient belongs to. */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: Conv2DAttrs,
  kernelName: string,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm supports data format NHWC only, got ${attrs.dataFormat}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
