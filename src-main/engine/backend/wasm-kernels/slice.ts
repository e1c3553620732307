// Slice and SplitV for the wasm backend, as copies inside the backend's memory. The shipped Slice reads
// its whole input back into JavaScript for every slice (SplitV once per part): a grouped convolution's
// kernel split in two copied 2.6 M floats per AlexNet inspection. Here each slice is its runs of
// contiguous words moved with copyWithin, bit for bit, nothing read back.
import { tf } from '../../tf';
import { heapWords, makeOutput, offsetOf, wordIndex } from './direct';
import { WASM, type KernelArgs, type TensorInfo } from './kernel-call';

const WORD_TYPES = new Set(['float32', 'int32']);

/** Copies x[begin : begin + size] into a new tensor, run by run (x is float32 or int32). */
function sliceWords(backend: tf.KernelBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = makeOutput(backend, size, x.dtype as 'float32' | 'int32');
  const count = tf.util.sizeFromShape(size);
  if (count === 0) return out;
  const shape = x.shape;
  const strides = [...tf.util.computeStrides(shape), 1];
  // Dimensions from `inner` on are whole in the slice (or the last one): one contiguous run each.
  let inner = shape.length - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const words = heapWords(backend);
  const src = wordIndex(offsetOf(backend, x));
  let dst = wordIndex(offsetOf(backend, out));
  const index = begin.slice(0, inner);
  const start = (idx: number[]) => idx.reduce((s, v, d) => s + v * strides[d], 0) + begin[inner] * strides[inner];
  for (let done = 0; done < count; done += run, dst += run) {
    const from = src + start(index);
    words.copyWithin(dst, from, from + run);
    // Next outer index, last dimension first.
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d] < begin[d] + size[d]) break;
      index[d] = begin[d];
    }
  }
  return out;
}

type SliceAttrs = { begin: number | number[]; size: number | number[] };

export function makeSliceConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    if (!WORD_TYPES.has(x.dtype) || x.shape.length === 0) return shipped.kernelFunc(args as never) as TensorInfo;
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, b, s);
    return sliceWords(args.backend, x, b, s);
  };
  return { kernelName: 'Slice', backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

type SplitAttrs = { numOrSizeSplits: number | number[]; axis: number };

export function makeSplitVConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo[] => {
    const { x } = args.inputs;
    if (!WORD_TYPES.has(x.dtype)) return shipped.kernelFunc(args as never) as TensorInfo[];
    const { numOrSizeSplits, axis } = args.attrs as unknown as SplitAttrs;
    const at = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, at);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[at] = n;
      const part = sliceWords(args.backend, x, [...begin], size);
      begin[at] += n;
      return part;
    });
  };
  return { kernelName: 'SplitV', backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
