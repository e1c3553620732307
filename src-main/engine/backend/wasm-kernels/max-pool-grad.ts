// MaxPoolGrad for the wasm backend.
//
// The shipped wasm MaxPoolGrad (and MaxPoolWithArgmax) starts each window's maximum at FLT_MIN, the
// smallest POSITIVE float, so a window whose values are all negative (any tanh network) sends its
// gradient to the wrong place, and 'same' padding is wrong too. This replacement follows TensorFlow:
// each window's gradient goes to the first maximum in row-major window order, and the gradients of
// overlapping windows add up.
//
// 1. A depthwise convolution with one-hot filters copies every window into K = fh*fw channels
//    (multiplying by exactly 1 and adding exact zeros, so the copies are exact).
// 2. ArgMax over those K channels gives the first maximum of each window.
// 3. Its flat index in x = the window origin + (kh*W + kw)*C; ScatterNd adds dy there (duplicates
//    from overlapping windows are summed). The origins depend only on the shapes: their table is built
//    once per geometry.
// Padding cells are filled with the lowest float so they never win. Inputs holding +-Infinity or NaN
// are not supported (0 * Infinity poisons the window copies); a network producing them has diverged.
import { tf } from '../../tf';
import { composeWasm, type WasmScope, type TensorInfo, type KernelArgs, WASM } from './kernel-call';

type Attrs = {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** Origin tables of the last geometries seen (a training step has one per pooling layer). */
const origins = new Map<string, Int32Array>();
const MAX_CACHED_GEOMETRIES = 8;

/** Flat index in x of the top-left cell of every window, [n, oh, ow, c] (may point into padding). */
function windowOrigins(w: WasmScope, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, outHeight: oh, outWidth: ow, inChannels: c } = info;
  const key = [n, info.inHeight, info.inWidth, c, oh, ow, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left].join(',');
  let table = origins.get(key);
  if (!table) {
    table = originTable(info);
    if (origins.size >= MAX_CACHED_GEOMETRIES) origins.delete(origins.keys().next().value!);
    origins.set(key, table);
  }
  return w.constant(table, [n, oh, ow, c]);
}

function originTable(info: tf.backend_util.Conv2DInfo): Int32Array {
  const { batchSize: n, inHeight: h, inWidth: wd, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const table = new Int32Array(n * oh * ow * c);
  let i = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const row = (b * h + r * info.strideHeight - top) * wd;
      for (let q = 0; q < ow; q++) {
        const cell = (row + q * info.strideWidth - left) * c;
        for (let ch = 0; ch < c; ch++) table[i++] = cell + ch;
      }
    }
  }
  return table;
}

/** Every window's cells as channels: [n, oh, ow, c * K], cell k of channel ch at ch*K + k. */
function windowCells(w: WasmScope, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels: c } = info;
  const k = fh * fw;
  // Depthwise filter [fh, fw, c, k]: multiplier m of every channel picks window cell m.
  const oneHot = new Float32Array(k * c * k);
  for (let cell = 0; cell < k; cell++) {
    for (let ch = 0; ch < c; ch++) oneHot[(cell * c + ch) * k + cell] = 1;
  }
  return w.run('DepthwiseConv2dNative', { x, filter: w.constant(oneHot, [fh, fw, c, k]) }, {
    strides: [info.strideHeight, info.strideWidth], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC',
  });
}

export function maxPoolGradWasm(args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs;
  const attrs = args.attrs as unknown as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const { batchSize: n, outHeight: oh, outWidth: ow, inChannels: c, inWidth: wd, filterWidth: fw } = info;
  const k = info.filterHeight * fw;

  return composeWasm(args.backend, (w) => {
    const padded = top || bottom || left || right
      ? w.pad(input, [[0, 0], [top, bottom], [left, right], [0, 0]], LOWEST_FLOAT32)
      : input;
    const cells = w.reshape(windowCells(w, padded, info), [n, oh, ow, c, k]);
    const cell = w.run('ArgMax', { x: cells }, { axis: 4 }); // k = kh*fw + kw
    const kh = w.run('FloorDiv', { a: cell, b: w.scalar(fw, 'int32') });
    // (kh*W + kw)*C = k*C + kh*(W - fw)*C
    const offset = w.run('Add', {
      a: w.run('Multiply', { a: cell, b: w.scalar(c, 'int32') }),
      b: w.run('Multiply', { a: kh, b: w.scalar((wd - fw) * c, 'int32') }),
    });
    const target = w.run('Add', { a: windowOrigins(w, info), b: offset });
    const count = n * oh * ow * c;
    const dx = w.run('ScatterNd', {
      indices: w.reshape(target, [count, 1]),
      updates: w.reshape(dy, [count]),
    }, { shape: [tf.util.sizeFromShape(input.shape)] });
    return w.reshape(dx, input.shape);
  });
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: WASM,
  kernelFunc: maxPoolGradWasm as unknown as tf.KernelFunc,
};
