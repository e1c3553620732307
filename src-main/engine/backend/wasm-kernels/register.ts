// Registers the wasm kernels that training needs and the wasm backend lacks, gets wrong, or runs
// slowly. Call after '@tensorflow/tfjs-backend-wasm' is imported; calling again changes nothing.
import { tf } from '../../tf';
import { WASM } from './kernel-call';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { makeConv2DBackpropInputConfig } from './conv2d-backprop-input';
import { makeBatchMatMulConfig } from './batch-mat-mul';
import { maxPoolGradConfig } from './max-pool-grad';
import { tanhConfig } from './tanh';
import { makeLrnConfig } from './lrn';

/** What registerWasmTrainingKernels did to one kernel. */
export type WasmKernelChange = { kernel: string; change: 'added' | 'replaced'; why: string };

// Marks our configs in tfjs's process-global registry (a global symbol, so that a second copy of
// this module recognises them too) and keeps the shipped config a replacement delegates to.
const SHIPPED = Symbol.for('convscope.wasm.shippedKernel');
type Marked = tf.KernelConfig & { [SHIPPED]?: tf.KernelConfig | null };

const isOurs = (config: tf.KernelConfig | undefined) => config !== undefined && SHIPPED in config;

function shipped(kernelName: string): tf.KernelConfig {
  const config = tf.getKernel(kernelName, WASM) as Marked | undefined;
  const original = config?.[SHIPPED] ?? config;
  if (!original) throw new Error(`the wasm backend has no '${kernelName}' kernel`);
  return original;
}

type Plan = { make: () => tf.KernelConfig; kernel: string; why: string };

const PLAN: Plan[] = [
  {
    kernel: 'Conv2DBackpropFilter',
    make: () => conv2DBackpropFilterConfig,
    why: 'missing in tfjs-backend-wasm (tfjs issue 8474): transpose + XNNPACK convolution',
  },
  {
    kernel: 'Conv2DBackpropInput',
    make: () => makeConv2DBackpropInputConfig(shipped('Conv2DBackpropInput')),
    why: 'shipped kernel is a scalar loop: XNNPACK convolution with the rotated filter',
  },
  {
    kernel: 'BatchMatMul',
    make: () => makeBatchMatMulConfig(shipped('BatchMatMul')),
    why: 'shipped kernel multiplies transposed operands in a scalar loop: transpose + XNNPACK',
  },
  {
    kernel: 'MaxPoolGrad',
    make: () => maxPoolGradConfig,
    why: 'shipped kernel is wrong for windows whose values are all negative and for same padding',
  },
  {
    kernel: 'Tanh',
    make: () => tanhConfig,
    why: 'shipped kernel is scalar std::tanh: 2 * sigmoid(2x) - 1 with XNNPACK, about twice as fast',
  },
  {
    kernel: 'LRN',
    make: () => makeLrnConfig(shipped('LRN')),
    why: 'shipped kernel calls pow per element: square roots in SIMD for beta 0.75 and 0.5 (the shipped one otherwise)',
  },
];

export function registerWasmTrainingKernels(): WasmKernelChange[] {
  if (!tf.getKernel('Conv2D', WASM)) {
    throw new Error('the wasm backend has no kernels registered: import @tensorflow/tfjs-backend-wasm first');
  }
  return PLAN.map(({ kernel, make, why }) => {
    const existing = tf.getKernel(kernel, WASM) as Marked | undefined;
    if (isOurs(existing)) return { kernel, change: existing?.[SHIPPED] ? 'replaced' : 'added', why };
    const config: Marked = { ...make(), [SHIPPED]: existing ?? null };
    if (existing) tf.unregisterKernel(kernel, WASM);
    tf.registerKernel(config);
    return { kernel, change: existing ? 'replaced' : 'added', why };
  });
}
