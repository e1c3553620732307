import type { BackendKind, BackendReport } from './types';
import { adapterName } from './webgpu';

const NAMES: Record<BackendKind, string> = {
  gpu: 'TensorFlow on the GPU (tfjs-node-gpu)',
  webgpu: 'WebGPU through Dawn (tfjs-backend-webgpu)',
  node: 'TensorFlow on the CPU (tfjs-node)',
  wasm: 'WebAssembly (XNNPACK)',
  cpu: 'plain JavaScript (the slowest; training is impractical)',
};

function details(r: BackendReport): string[] {
  const d: string[] = [];
  if (r.nativePackage) d.push(`${r.nativePackage} ${r.versions[r.nativePackage.replace('@tensorflow/', '')] ?? ''}`.trim());
  if (r.versions.tensorflow) d.push(`TensorFlow ${r.versions.tensorflow}`);
  if (r.gpuDevice) d.push(`device ${r.gpuDevice}`);
  if (r.chosen === 'node' && r.nativePackage?.endsWith('-gpu') && !r.gpuDevice) d.push('GPU build running on the CPU');
  if (r.webgpuAdapter) d.push(`adapter ${adapterName(r.webgpuAdapter)}${r.webgpuAdapter.software ? ' (software: emulated on the CPU)' : ''}`);
  if (r.simd !== undefined) d.push(`SIMD ${r.simd ? 'on' : 'off'}`);
  if (r.threads !== undefined) d.push(`${r.threads} thread${r.threads === 1 ? '' : 's'}`);
  if (r.wasmKernels?.length) d.push(`${r.wasmKernels.length} kernels added or replaced by ConvScope`);
  d.push(`tfjs ${r.versions.tfjs}`);
  return d;
}

/** A few human lines: the backend in use, then each faster backend skipped and why. */
export function describeBackend(report: BackendReport): string {
  const asked = report.requested === 'auto' ? 'auto' : `requested ${report.requested}`;
  const lines = [`Backend: ${report.chosen}, ${NAMES[report.chosen]} (${asked}; ${details(report).join(', ')})`];
  for (const s of report.skipped) lines.push(`  skipped ${s.backend}: ${s.reason}`);
  return lines.join('\n');
}
