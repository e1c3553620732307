// Tanh for the wasm backend, and its gradient, as ConvScope's direct SIMD kernels (assembly/kernels.ts).
// The shipped Tanh calls std::tanh element by element; the gradient tfjs defines, (1 - y^2) * dy, is
// three kernels (Square, Sub, Mul) and three passes over memory, where one does.
import { tf } from '../../tf';
import { directKernels, makeFloatOutput, offsetOf } from './direct';
import { WASM, type KernelArgs, type TensorInfo } from './kernel-call';

/** The kernel of tanh's gradient on wasm (not a tfjs kernel: only ConvScope's gradient calls it). */
export const TANH_GRAD = 'ConvScopeTanhGrad';

export function makeTanhConfig(shipped: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype !== 'float32') return shipped.kernelFunc(args as never) as TensorInfo;
    const y = makeFloatOutput(args.backend, x.shape);
    const size = tf.util.sizeFromShape(x.shape);
    if (size > 0) directKernels(args.backend).tanh(offsetOf(args.backend, x), offsetOf(args.backend, y), size);
    return y;
  };
  return { kernelName: 'Tanh', backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export const tanhGradConfig: tf.KernelConfig = {
  kernelName: TANH_GRAD,
  backendName: WASM,
  kernelFunc: ((args: KernelArgs): TensorInfo => {
    const { y, dy } = args.inputs;
    const dx = makeFloatOutput(args.backend, y.shape);
    const size = tf.util.sizeFromShape(y.shape);
    if (size > 0) directKernels(args.backend).tanhGrad(offsetOf(args.backend, y), offsetOf(args.backend, dy), offsetOf(args.backend, dx), size);
    return dx;
  }) as unknown as tf.KernelFunc,
};

const OURS = Symbol.for('convscope.tanhGradient');

/**
 * Tanh's gradient (process-wide, as tfjs keeps gradients): on wasm with float32 tensors, one pass of
 * TANH_GRAD; elsewhere the gradient tfjs registered, unchanged.
 */
export function registerTanhGradient(): void {
  const original = tf.getGradient('Tanh') as (tf.GradConfig & { [OURS]?: true }) | undefined;
  if (!original || original[OURS]) return;
  const config: tf.GradConfig & { [OURS]: true } = {
    kernelName: 'Tanh',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved;
      const tensor = dy as tf.Tensor;
      if (tf.getBackend() !== WASM || tensor.dtype !== 'float32' || y.dtype !== 'float32' || !tf.getKernel(TANH_GRAD, WASM)) {
        return original.gradFunc(dy, saved, attrs);
      }
      return { x: () => tf.engine().runKernel(TANH_GRAD, { y, dy: tensor }) as tf.Tensor };
    },
    [OURS]: true,
  };
  tf.registerGradient(config);
}
