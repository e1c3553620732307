// Identity for the wasm backend: the same data, one more reference (as the cpu backend's Identity and
// the wasm Reshape do). The shipped kernel copies the tensor, and tfjs calls Identity for every tensor a
// gradient saves: some 50 copies per LeNet-5 step, three of them of the first layer's 442,368 floats.
// Sharing is safe because no wasm kernel writes into its inputs (a Variable's assign swaps its data).
import type { tf } from '../../tf';
import { WASM, type KernelArgs, type TensorInfo } from './kernel-call';

type RefCounted = { incRef(dataId: object): void };

export function makeIdentityConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return shipped.kernelFunc(args as never) as TensorInfo;
    (args.backend as unknown as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
