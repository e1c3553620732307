// What the backend layer reports. A new backend is a new BackendKind plus a candidate in select.ts.
import type { WebgpuAdapter } from './webgpu';

/** The compute backends ConvScope can run on, fastest first. */
export const BACKEND_KINDS = ['gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];
export type BackendChoice = 'auto' | BackendKind;

/** A backend tried and passed over, with the precise reason. */
export type SkippedBackend = { backend: BackendKind; reason: string };

export type BackendReport = {
  requested: BackendChoice;
  chosen: BackendKind;
  /** tf.getBackend() after initialisation: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfBackend: string;
  skipped: SkippedBackend[];
  /** tfjs, node, and the versions of whatever was loaded (tfjs-node, tensorflow, electron...). */
  versions: Record<string, string>;
  /** The npm package that provides a native backend ('@tensorflow/tfjs-node' or '-gpu'). */
  nativePackage?: string;
  /** For 'gpu': the device TensorFlow created, as its log names it. */
  gpuDevice?: string;
  /** For 'webgpu': the adapter Dawn gave (a software one only when webgpu was asked for by name). */
  webgpuAdapter?: WebgpuAdapter;
  /** For 'wasm': whether the SIMD build runs, and the XNNPACK thread count. */
  simd?: boolean;
  threads?: number;
  /** For 'wasm': the kernels ConvScope added or replaced so that training works. */
  wasmKernels?: { kernel: string; change: 'added' | 'replaced'; why: string }[];
};
