// A what-if for the benchmark, not part of the engine: MaxPoolGrad for the wasm backend as one plain
// JavaScript loop over the wasm heap (no kernel composition), to measure what a direct kernel would
// save against ConvScope's composed one (depthwise window copies + ArgMax + ScatterNd). Same
// semantics: each window's gradient goes to its first maximum in row-major order; overlapping
// windows add up; padding never wins.
import { tf } from '../src-main/engine/tf';

type WasmBackend = tf.KernelBackend & {
  dataIdMap: { get(id: object): { memoryOffset: number } };
  wasm: { HEAPF32: Float32Array };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
};

type Attrs = { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };

function maxPoolGradJs(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = args.attrs as unknown as Attrs;
  const backend = args.backend as WasmBackend;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32');
  // The heap may have grown while allocating the output: take the views after it.
  const heap = backend.wasm.HEAPF32;
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset / 4;
  const x = at(input);
  const g = at(dy);
  const dx = at(out);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  heap.fill(0, dx, dx + n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const y0 = oy * sh - top;
        const x0 = ox * sw - left;
        const gRow = g + ((b * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let where = -1;
          for (let ky = Math.max(0, -y0); ky < fh && y0 + ky < h; ky++) {
            for (let kx = Math.max(0, -x0); kx < fw && x0 + kx < w; kx++) {
              const i = ((b * h + y0 + ky) * w + x0 + kx) * c + ch;
              const v = heap[x + i];
              if (v > best || where < 0) {
                best = v;
                where = i;
              }
            }
          }
          if (where >= 0) heap[dx + where] += heap[gRow + ch];
        }
      }
    }
  }
  return out;
}

/** Replaces the registered wasm MaxPoolGrad with the JavaScript loop (this process only). */
export function useJsMaxPoolGrad(): void {
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGradJs as unknown as tf.KernelFunc });
}
