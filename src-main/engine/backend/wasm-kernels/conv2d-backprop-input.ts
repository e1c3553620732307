// Conv2DBackpropInput for the wasm backend. The shipped kernel is a plain C++ loop.
//
// For few input channels (LeNet-5's 6): ConvScope's direct kernel (assembly/kernels.ts) makes every
// window's patch gradient dy[p, :] . W^T in registers and adds it at the window's place (no zeros
// multiplied, no patch matrix in memory). Otherwise an XNNPACK convolution: the input
// gradient is the convolution of dy (dilated by the stride: zeros between its rows and columns)
// with the filter rotated by 180 degrees and its in/out channels swapped:
//   dx[n, i, j, ci] = sum over kh, kw, co of dyDilated[n, i + kh - (fh-1-top), ...] * W[fh-1-kh, fw-1-kw, ci, co]
// With a stride s > 1 the dilated dy is mostly zeros (AlexNet conv1: 15 of 16), so strided layers use the
// sub-pixel form instead: each of the s x s output phases (row mod s, column mod s) is a stride-1
// convolution of dy itself with the taps of that phase, all phases as one convolution's output channels,
// interleaved back into rows and columns, then cropped. Stride-1 geometries where the padding above would be negative
// (explicit padding wider than the filter) go to the shipped kernel, which stays correct for them.
import { tf } from '../../tf';
import { composeWasm, type WasmScope, type TensorInfo, type KernelArgs, WASM } from './kernel-call';
import { convGeometry, type Conv2DAttrs } from './conv-geometry';
import { directKernels, makeFloatOutput, offsetOf } from './direct';

type Attrs = Conv2DAttrs & { inputShape: [number, number, number, number] };

/** Padding of the dilated dy along one axis; dy dilated by `stride` has outSize*stride rows. */
function transposedPadding(inSize: number, before: number, outSize: number, stride: number, filterSize: number) {
  const padBefore = filterSize - 1 - before;
  const padAfter = inSize + before - outSize * stride;
  return { padBefore, padAfter };
}

/** Input channels up to which the direct kernel is used. */
export const DIRECT_MAX_IN_CHANNELS = 32;

/** dx by the direct kernel: into a zeroed gradient of the padded input, then cropped. */
function direct(backend: KernelArgs['backend'], dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [n, oh, ow, co] = dy.shape;
  const [fh, fw, ci] = filter.shape;
  const { top, left } = info.padInfo;
  const [h, w] = [info.inHeight, info.inWidth];
  const hp = Math.max((oh - 1) * info.strideHeight + fh, top + h);
  const wp = Math.max((ow - 1) * info.strideWidth + fw, left + w);
  const run = fw * ci;
  const runPadded = Math.ceil(run / 8) * 8;
  return composeWasm(backend, (s) => {
    let wt = s.reshape(s.transpose(filter, [3, 0, 1, 2]), [co, fh, run]); // [co, fh, fw*ci]
    if (runPadded > run) wt = s.pad(wt, [[0, 0], [0, 0], [0, runPadded - run]]);
    const dxp = s.track(makeFloatOutput(backend, [n * hp * wp * ci + 8]));
    const kernels = directKernels(backend);
    kernels.convBackpropInput(
      offsetOf(backend, dy), offsetOf(backend, wt), offsetOf(backend, dxp),
      n, hp, wp, ci, oh, ow, co, fh, runPadded, info.strideHeight, info.strideWidth,
    );
    const dx = makeFloatOutput(backend, [n, h, w, ci]);
    kernels.crop(offsetOf(backend, dxp), offsetOf(backend, dx), n, hp, wp, h, w, ci, top, left);
    return dx;
  });
}

/**
 * `x` with its first two axes reversed (the filter's 180-degree rotation), as the product of an
 * anti-identity matrix with x's [a * b, rest] rows: the shipped Reverse kernel is a scalar loop, some
 * 15 times slower. Exact: each output is 1 * x plus zeros (for finite weights).
 */
function flipLeading(w: WasmScope, x: TensorInfo): TensorInfo {
  const [a, b, ...rest] = x.shape;
  const m = a * b;
  const antiIdentity = new Float32Array(m * m);
  for (let i = 0; i < m; i++) antiIdentity[i * m + (m - 1 - i)] = 1;
  const rows = w.reshape(x, [1, m, rest.reduce((p, q) => p * q, 1)]);
  const flipped = w.run('BatchMatMul', { a: w.constant(antiIdentity, [1, m, m]), b: rows }, { transposeA: false, transposeB: false });
  return w.reshape(flipped, x.shape);
}

/**
 * dx of a strided convolution. With T = ceil(f / s) taps per phase, padded row u = s q + a of dx gets
 * sum over t < T of dy[q - t] * W[s t + a] (and likewise for columns): a full correlation of dy with the
 * phase's taps reversed. The filter, zero-padded to s T taps, becomes [T, T, co, sh * sw * ci]; the
 * result's channels are split back into (a, b) phases and rows and columns; then the padding is cut off.
 */
function subPixel(backend: KernelArgs['backend'], dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [fh, fw, ci, co] = filter.shape;
  const [th, tw] = [Math.ceil(fh / sh), Math.ceil(fw / sw)];
  const [n, oh, ow] = dy.shape;
  const [rows, cols] = [(oh + th - 1) * sh, (ow + tw - 1) * sw];
  const { top, left } = info.padInfo;
  return composeWasm(backend, (w) => {
    const padded = w.pad(filter, [[0, sh * th - fh], [0, sw * tw - fw], [0, 0], [0, 0]]);
    const phases = w.transpose(w.reshape(padded, [th, sh, tw, sw, ci, co]), [0, 2, 5, 1, 3, 4]);
    const stacked = w.reshape(flipLeading(w, phases), [th, tw, co, sh * sw * ci]);
    const full = w.run('Conv2D', { x: w.pad(dy, [[0, 0], [th - 1, th - 1], [tw - 1, tw - 1], [0, 0]]), filter: stacked }, {
      strides: [1, 1],
      pad: 'valid',
      dilations: [1, 1],
      dataFormat: 'NHWC',
    });
    const interleaved = w.reshape(w.transpose(w.reshape(full, [n, oh + th - 1, ow + tw - 1, sh, sw, ci]), [0, 1, 3, 2, 4, 5]), [n, rows, cols, ci]);
    // Rows and columns of the padded input that no window reaches get no gradient.
    const [extraRows, extraCols] = [Math.max(0, top + info.inHeight - rows), Math.max(0, left + info.inWidth - cols)];
    const covered = extraRows || extraCols ? w.pad(interleaved, [[0, 0], [0, extraRows], [0, extraCols], [0, 0]]) : interleaved;
    return w.run('Slice', { x: covered }, { begin: [0, top, left, 0], size: [n, info.inHeight, info.inWidth, ci] });
  });
}

export function makeConv2DBackpropInputConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as Attrs;
    const info = convGeometry(attrs.inputShape, filter.shape, attrs, 'Conv2DBackpropInput');
    if (info.inChannels <= DIRECT_MAX_IN_CHANNELS && tf.util.sizeFromShape(dy.shape) > 0 && dy.dtype === 'float32' && filter.dtype === 'float32') {
      return direct(args.backend, dy, filter, info);
    }
    if (info.strideHeight > 1 || info.strideWidth > 1) return subPixel(args.backend, dy, filter, info);
    const rows = transposedPadding(info.inHeight, info.padInfo.top, info.outHeight, info.strideHeight, info.filterHeight);
    const cols = transposedPadding(info.inWidth, info.padInfo.left, info.outWidth, info.strideWidth, info.filterWidth);
    if (Math.min(rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter) < 0) {
      return shipped.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
    }
    return composeWasm(args.backend, (w) => {
      const rotated = flipLeading(w, w.transpose(filter, [0, 1, 3, 2])); // [fh, fw, co, ci], rotated
      return w.run('Conv2D', { x: dy, filter: rotated }, {
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
