// Tanh for the wasm backend as 2 * sigmoid(2x) - 1. The shipped kernel calls std::tanh element by
// element (scalar code); XNNPACK's sigmoid and binary ops are vectorised, so the composition takes
// about half the time. The two differ by at most a few float32 ulps of 1 (~2e-7 absolute).
import type { tf } from '../../tf';
import { composeWasm, type KernelArgs, type TensorInfo, WASM } from './kernel-call';

export const tanhConfig: tf.KernelConfig = {
  kernelName: 'Tanh',
  backendName: WASM,
  kernelFunc: ((args: KernelArgs): TensorInfo =>
    composeWasm(args.backend, (w) => {
      const two = w.scalar(2, 'float32');
      const s = w.run('Sigmoid', { x: w.run('Multiply', { a: args.inputs.x, b: two }) });
      return w.run('Sub', { a: w.run('Multiply', { a: s, b: two }), b: w.scalar(1, 'float32') });
    })) as unknown as tf.KernelFunc,
};
