// The WebGPU backend in plain Node: tfjs-backend-webgpu on Dawn, through the `webgpu` npm package
// (dawn.node, prebuilt inside the package). Both are optionalDependencies, loaded only here.
// On Linux Dawn reaches the GPU through Vulkan: it needs the Vulkan loader (libvulkan.so.1) and the
// GPU driver's Vulkan ICD. Not inside Electron: Electron's V8 forbids the external ArrayBuffers that
// dawn.node hands out (dawn-gpu/node-webgpu issue 5); Electron's windows have WebGPU of their own.
import path from 'node:path';
import { tf } from '../tf';
import { parseLdconfig } from './native-probe';
import type { ProbeDeps } from './probe-deps';

export const WEBGPU_PACKAGE = 'webgpu';
export const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

export type WebgpuAdapter = {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe, WARP): correct but slower than the wasm backend. */
  software: boolean;
};

export type WebgpuBackendInfo = {
  adapter: WebgpuAdapter;
  versions: { 'tfjs-backend-webgpu': string; webgpu: string };
};

/** WebGPU cannot be used here; the message says precisely why. */
export class WebgpuUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebgpuUnavailableError';
  }
}

export type ActivateWebgpuOptions = {
  /** Accept a software adapter (a test or a benchmark asked for webgpu on purpose). */
  allowSoftware?: boolean;
};

type GpuAdapterLike = {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
};
type GpuLike = { requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
type DawnModule = { create(flags: string[]): GpuLike; globals: Record<string, unknown> };

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

/** Describes an adapter; `software` from Dawn's fallback flag or a known CPU driver's name. */
export function describeAdapter(adapter: GpuAdapterLike): WebgpuAdapter {
  const info = adapter.info ?? {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const described = {
    vendor: text(info.vendor),
    architecture: text(info.architecture),
    device: text(info.device),
    description: text(info.description),
  };
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || SOFTWARE.test(Object.values(described).join(' '));
  return { ...described, software };
}

export function adapterName(a: WebgpuAdapter): string {
  const parts = [a.description || a.device, a.vendor && `vendor ${a.vendor}`, a.architecture && `architecture ${a.architecture}`].filter(Boolean);
  return parts.join(', ') || 'unnamed adapter';
}

const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

/**
 * What Dawn needs before it can find any adapter, or null where it is all there. On Linux: the Vulkan
 * loader and a Vulkan driver (ICD). Elsewhere Dawn uses Metal / D3D12, which need no install.
 */
export async function missingVulkan(deps: ProbeDeps): Promise<string | null> {
  if (deps.platform !== 'linux') return null;
  const libDirs = (deps.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const loader = libDirs.map((d) => path.join(d, 'libvulkan.so.1')).find((f) => deps.exists(f)) ?? (await vulkanLoaderInCache(deps));
  if (!loader) {
    return 'the Vulkan loader libvulkan.so.1 is not installed (Debian/Ubuntu: apt install libvulkan1), so Dawn cannot reach any GPU';
  }
  const explicit = deps.env.VK_ICD_FILENAMES ?? deps.env.VK_DRIVER_FILES;
  if (explicit) {
    const missing = explicit.split(':').filter(Boolean).filter((f) => !deps.exists(f));
    return missing.length > 0 ? `the Vulkan driver manifest named in VK_ICD_FILENAMES/VK_DRIVER_FILES does not exist (${missing.join(', ')})` : null;
  }
  if (icdManifests(deps).length === 0) {
    return `no Vulkan driver is installed (no ICD manifest in ${ICD_DIRS.join(', ')}; NVIDIA: the driver's Vulkan part, e.g. libnvidia-gl; Mesa: mesa-vulkan-drivers)`;
  }
  return null;
}

function icdManifests(deps: ProbeDeps): string[] {
  return ICD_DIRS.flatMap((d) => deps.listDir(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f)));
}

/** Why Dawn found no adapter: something missing (see missingVulkan), or drivers that expose no device. */
export async function explainNoAdapter(deps: ProbeDeps): Promise<string> {
  if (deps.platform !== 'linux') return `Dawn found no WebGPU adapter on ${deps.platform} (no GPU, or its driver offers no Metal/D3D12 device)`;
  const missing = await missingVulkan(deps);
  if (missing) return missing;
  const explicit = deps.env.VK_ICD_FILENAMES ?? deps.env.VK_DRIVER_FILES;
  if (explicit) return `the Vulkan driver(s) in VK_ICD_FILENAMES/VK_DRIVER_FILES (${explicit.split(':').filter(Boolean).join(', ')}) expose no device Dawn can use`;
  return `the installed Vulkan drivers (${icdManifests(deps).join(', ')}) expose no device Dawn can use (is the GPU visible in this container/VM, e.g. /dev/dri or /dev/nvidia*?)`;
}

/** libvulkan.so.1 as the dynamic linker's cache (ldconfig -p) lists it, or null. */
async function vulkanLoaderInCache(deps: ProbeDeps): Promise<string | null> {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig']) {
    const res = await deps.exec(ldconfig, ['-p'], { timeoutMs: 10_000 });
    if (res.status === 0) return parseLdconfig(res.stdout).get('libvulkan.so.1') ?? null;
  }
  return null;
}

/** Puts Dawn's `navigator.gpu` (and the WebGPU classes) on globalThis, as tfjs-backend-webgpu expects. */
function installNavigatorGpu(dawn: DawnModule): GpuLike {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  const gpu = dawn.create([]);
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  if (g.navigator) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true });
  }
  return gpu;
}

/**
 * Loads Dawn and tfjs-backend-webgpu and selects the 'webgpu' backend. Throws WebgpuUnavailableError
 * with the precise reason when it cannot (package missing, inside Electron, no Vulkan loader or
 * driver, only a software adapter without `allowSoftware`, initialisation failure).
 * Note: in Node, tfjs-backend-webgpu cannot read tensors synchronously (dataSync needs OffscreenCanvas).
 */
export async function activateWebgpu(deps: ProbeDeps, options: ActivateWebgpuOptions = {}): Promise<WebgpuBackendInfo> {
  if (process.versions.electron) {
    throw new WebgpuUnavailableError(
      'the webgpu backend runs in plain Node only: inside Electron, dawn.node fails (Electron forbids its external buffers); run the engine with Node (convscope CLI)',
    );
  }
  const dawnVersion = deps.packageVersion(WEBGPU_PACKAGE);
  if (dawnVersion === null) throw new WebgpuUnavailableError(`not installed (${WEBGPU_PACKAGE} is not in node_modules)`);
  const tfjsVersion = deps.packageVersion(TFJS_WEBGPU_PACKAGE);
  if (tfjsVersion === null) throw new WebgpuUnavailableError(`not installed (${TFJS_WEBGPU_PACKAGE} is not in node_modules)`);

  let gpu: GpuLike;
  try {
    gpu = installNavigatorGpu((await import(WEBGPU_PACKAGE)) as unknown as DawnModule);
  } catch (err) {
    throw new WebgpuUnavailableError(`load error: ${WEBGPU_PACKAGE} (dawn.node) could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebgpuUnavailableError(`no WebGPU adapter: ${await explainNoAdapter(deps)}`);
  const described = describeAdapter(adapter);
  if (described.software && !options.allowSoftware) {
    throw new WebgpuUnavailableError(
      `only a software adapter (${adapterName(described)}), which emulates a GPU on the CPU and is slower than the wasm backend; ask for webgpu explicitly to use it anyway`,
    );
  }
  // Registers the 'webgpu' backend, but only if navigator.gpu existed when the module was first loaded.
  await import(TFJS_WEBGPU_PACKAGE);
  if (!tf.findBackendFactory('webgpu')) {
    throw new WebgpuUnavailableError(`${TFJS_WEBGPU_PACKAGE} was loaded before navigator.gpu existed and registered no backend`);
  }
  if (!(await tf.setBackend('webgpu'))) {
    throw new WebgpuUnavailableError(`${TFJS_WEBGPU_PACKAGE} failed to initialise on ${adapterName(described)}`);
  }
  await tf.ready();
  return { adapter: described, versions: { 'tfjs-backend-webgpu': tfjsVersion, webgpu: dawnVersion } };
}
