// Registers the wasm kernels that training needs and the wasm backend lacks, gets wrong, or runs
// slowly. Call after '@tensorflow/tfjs-backend-wasm' is imported; calling again changes nothing.
import { tf } from '../../tf';
import { WASM } from './kernel-call';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { makeConv2DBackpropInputConfig } from './conv2d-backprop-input';
import { makeBatchMatMulConfig } from './batch-mat-mul';
import { maxPoolGradConfig } from './max-pool-grad';
import { makeTanhConfig, registerTanhGradient, tanhGradConfig, TANH_GRAD } from './tanh';
import { makeLrnConfig } from './lrn';
import { makeAddConfig, makeSumConfig } from './bias';
import { makeConv2DConfig, makeFusedConv2DConfig } from './conv2d';
import { makeIdentityConfig } from './identity';
import { makeSliceConfig, makeSplitVConfig } from './slice';

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
    kernel: 'Conv2D',
    make: () => makeConv2DConfig(shipped('Conv2D')),
    why: 'XNNPACK packs and indirects more than it computes for few input channels: a direct SIMD kernel for up to 8 on one thread',
  },
  {
    kernel: 'FusedConv2D',
    make: () => makeFusedConv2DConfig(shipped('FusedConv2D')),
    why: 'as Conv2D, with the bias and a linear or ReLU activation in the direct kernel (other activations: the shipped one)',
  },
  {
    kernel: 'Conv2DBackpropFilter',
    make: () => conv2DBackpropFilterConfig,
    why: 'missing in tfjs-backend-wasm (tfjs issue 8474): a direct SIMD kernel for up to 32 output channels, an XNNPACK convolution beyond',
  },
  {
    kernel: 'Conv2DBackpropInput',
    make: () => makeConv2DBackpropInputConfig(shipped('Conv2DBackpropInput')),
    why: 'shipped kernel is a scalar loop: a direct SIMD kernel (patch gradients in registers) for up to 32 input channels, an XNNPACK convolution beyond',
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
    make: () => makeTanhConfig(shipped('Tanh')),
    why: 'shipped kernel is scalar std::tanh: a SIMD kernel (series, or exp by 2^n e^r), within 2 ulps',
  },
  {
    kernel: TANH_GRAD,
    make: () => tanhGradConfig,
    why: "tanh's gradient (1 - y^2) dy in one SIMD pass instead of Square, Sub and Mul (tfjs' gradient elsewhere)",
  },
  {
    kernel: 'Add',
    make: () => makeAddConfig(shipped('Add')),
    why: 'shipped kernel broadcasts a bias element by element: one SIMD pass with the bias repeated (other adds: the shipped one)',
  },
  {
    kernel: 'Sum',
    make: () => makeSumConfig(shipped('Sum')),
    why: 'shipped kernel transposes before reducing: a bias gradient (every axis but the last) in one SIMD pass (other sums: the shipped one)',
  },
  {
    kernel: 'Identity',
    make: () => makeIdentityConfig(shipped('Identity')),
    why: 'shipped kernel copies the tensor, for every tensor a gradient saves: shares the data instead, as the cpu backend does',
  },
  {
    kernel: 'Slice',
    make: () => makeSliceConfig(shipped('Slice')),
    why: 'shipped kernel reads its whole input back into JavaScript for every slice: contiguous runs copied inside the wasm memory',
  },
  {
    kernel: 'SplitV',
    make: () => makeSplitVConfig(shipped('SplitV')),
    why: "shipped kernel slices through the shipped Slice (a read-back per part): ConvScope's Slice for each part",
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
  registerTanhGradient();
  return PLAN.map(({ kernel, make, why }) => {
    const existing = tf.getKernel(kernel, WASM) as Marked | undefined;
    if (isOurs(existing)) return { kernel, change: existing?.[SHIPPED] ? 'replaced' : 'added', why };
    const config: Marked = { ...make(), [SHIPPED]: existing ?? null };
    if (existing) tf.unregisterKernel(kernel, WASM);
    tf.registerKernel(config);
    return { kernel, change: existing ? 'replaced' : 'added', why };
  });
}
