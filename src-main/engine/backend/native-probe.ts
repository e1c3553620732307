// Decides, before anything native is loaded, whether tfjs-node-gpu would really compute on a GPU,
// and whether tfjs-node (or the GPU build, on the CPU) can serve as the 'node' backend. Both
// packages register the backend name 'tensorflow', so only one may ever load in a process: the GPU
// question is answered in a child process.
import { UTIL_POLYFILL_SOURCE } from './node-util-polyfill';
import type { ExecResult, ProbeDeps } from './probe-deps';

export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';

/** A check failed; `reason` says precisely why (shown to users). */
export type ProbeResult<T> = ({ ok: true } & T) | { ok: false; reason: string };

export function notInstalled(pkg: string): string {
  return `not installed (${pkg} is not in node_modules)`;
}

export function probePackage(pkg: string, deps: ProbeDeps): ProbeResult<{ version: string }> {
  const version = deps.packageVersion(pkg);
  return version === null ? { ok: false, reason: notInstalled(pkg) } : { ok: true, version };
}

// TensorFlow 2.9 (libtensorflow of tfjs-node-gpu 4.22) is built against CUDA 11.2 and cuDNN 8.1.
const CUDA_LIBRARIES =
  { linux: [
      { name: 'libcudart.so.11.0', matches: (f: string) => /^libcudart\.so\.11(\.|$)/.test(f) },
      { name: 'libcudnn.so.8', matches: (f: string) => /^libcudnn\.so\.8(\.|$)/.test(f) },
    ],
    win32: [
      { name: 'cudart64_110.dll', matches: (f: string) => /^cudart64_11\d*\.dll$/i.test(f) },
      { name: 'cudnn64_8.dll', matches: (f: string) => /^cudnn64_8\.dll$/i.test(f) },
    ] } as const;

/** Library file names that `ldconfig -p` lists, with their paths. */
export function parseLdconfig(output: string): Map<string, string> {
  const libs = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+)\s+\(.*\)\s+=>\s+(\S+)/.exec(line);
    if (m) libs.set(m[1], m[2]);
  }
  return libs;
}

function libraryDirs(deps: ProbeDeps): string[] {
  const sep = deps.platform === 'win32' ? ';' : ':';
  const fromEnv = (name: string) => (deps.env[name] ?? '').split(sep).filter(Boolean);
  if (deps.platform === 'win32') {
    const cuda = deps.env.CUDA_PATH ? [`${deps.env.CUDA_PATH}\\bin`] : [];
    return [...fromEnv('PATH'), ...cuda];
  }
  const cudaHome = [deps.env.CUDA_HOME, deps.env.CUDA_PATH].filter(Boolean).map((d) => `${d}/lib64`);
  const versioned = deps.listDir('/usr/local').filter((d) => /^cuda-11/.test(d)).map((d) => `/usr/local/${d}/lib64`);
  return [...fromEnv('LD_LIBRARY_PATH'), ...cudaHome, '/usr/local/cuda/lib64', ...versioned];
}

/** Finds the CUDA 11 runtime and cuDNN 8 (ldconfig's cache, LD_LIBRARY_PATH, the usual CUDA folders). */
export async function findCudaLibraries(deps: ProbeDeps): Promise<ProbeResult<{ found: Record<string, string> }>> {
  if (deps.platform !== 'linux' && deps.platform !== 'win32') {
    return { ok: false, reason: `no CUDA on ${deps.platform} (tfjs-node-gpu needs Linux or Windows)` };
  }
  const wanted = CUDA_LIBRARIES[deps.platform];
  const found: Record<string, string> = {};
  if (deps.platform === 'linux') {
    for (const ldconfig of ['ldconfig', '/sbin/ldconfig']) {
      const res = await deps.exec(ldconfig, ['-p'], { timeoutMs: 10_000 });
      if (res.status !== 0) continue;
      for (const [file, path] of parseLdconfig(res.stdout)) {
        for (const lib of wanted) if (!found[lib.name] && lib.matches(file)) found[lib.name] = path;
      }
      break;
    }
  }
  for (const dir of libraryDirs(deps)) {
    for (const file of deps.listDir(dir)) {
      for (const lib of wanted) if (!found[lib.name] && lib.matches(file)) found[lib.name] = `${dir}/${file}`;
    }
  }
  const missing = wanted.filter((lib) => !found[lib.name]).map((lib) => lib.name);
  if (missing.length > 0) return { ok: false, reason: `no CUDA 11 libraries found (${missing.join(', ')})` };
  return { ok: true, found };
}

/** An NVIDIA GPU the driver exposes: /dev/nvidia0, or a GPU listed by `nvidia-smi -L`. */
export async function findNvidiaDevice(deps: ProbeDeps): Promise<ProbeResult<{ name?: string }>> {
  const smi = await deps.exec('nvidia-smi', ['-L'], { timeoutMs: 15_000 });
  const listed = smi.status === 0 ? /^GPU \d+: (.+?)(?: \(UUID.*)?$/m.exec(smi.stdout) : null;
  if (listed) return { ok: true, name: listed[1].trim() };
  if (deps.platform === 'linux' && deps.exists('/dev/nvidia0')) return { ok: true };
  const smiSays = smi.startError ? 'nvidia-smi not found' : 'nvidia-smi lists no GPU';
  return { ok: false, reason: `no GPU device (${deps.platform === 'linux' ? 'no /dev/nvidia0, ' : ''}${smiSays})` };
}

const PROBE_MARK = 'CONVSCOPE_GPU_PROBE ';

/** CommonJS run by the probe child: load the package, run a matmul, print what TensorFlow used. */
export const GPU_PROBE_SOURCE = `
const util = require('util');
${UTIL_POLYFILL_SOURCE}
const [pkg, from] = process.argv.slice(1);
const say = (o) => process.stdout.write(${JSON.stringify(PROBE_MARK)} + JSON.stringify(o) + '\\n');
try {
  const tf = require(require.resolve(pkg, { paths: [from] }));
  const a = tf.ones([256, 256]);
  tf.matMul(a, a).dataSync();
  const backend = tf.backend();
  const binding = backend && backend.binding;
  say({ ok: true, tfBackend: tf.getBackend(), isUsingGpuDevice: backend && backend.isUsingGpuDevice === true,
        tfjsNode: tf.version && tf.version['tfjs-node'], tensorflow: binding && binding.TF_Version });
} catch (err) {
  say({ ok: false, error: String(err && err.message || err) });
  process.exitCode = 1;
}
`;

export type GpuProbe = { device: string; tensorflow?: string };

const seconds = (ms: number) => Math.round(ms / 1000);

/** Reads the probe child's output: did TensorFlow create a GPU device and use it? */
export function interpretGpuProbe(res: ExecResult, timeoutMs: number): ProbeResult<GpuProbe> {
  if (res.startError) return { ok: false, reason: `the GPU probe could not start (${res.startError})` };
  if (res.timedOut) {
    return {
      ok: false,
      reason:
        `the GPU probe did not finish within ${seconds(timeoutMs)} s (TensorFlow 2.9 compiles its CUDA ` +
        'kernels at first start on GPUs newer than Ampere, which can take many minutes; ' +
        'set CONVSCOPE_GPU_PROBE_TIMEOUT_S to wait longer)',
    };
  }
  const line = res.stdout.split('\n').find((l) => l.startsWith(PROBE_MARK));
  const verdict = line ? (JSON.parse(line.slice(PROBE_MARK.length)) as Record<string, unknown>) : null;
  if (!verdict) {
    const last = res.stderr.trim().split('\n').slice(-1)[0] ?? '';
    return { ok: false, reason: `the GPU probe exited with code ${res.status} (${last || 'no output'})` };
  }
  if (verdict.ok !== true) return { ok: false, reason: `load error: ${String(verdict.error)}` };

  const created = /Created device \S*device:(GPU:\d+).*?name: ([^,]+)/.exec(res.stderr);
  if (verdict.isUsingGpuDevice === true || created) {
    const device = created ? `${created[1]} (${created[2].trim()})` : 'GPU';
    const tensorflow = typeof verdict.tensorflow === 'string' ? verdict.tensorflow : undefined;
    return { ok: true, device, tensorflow };
  }
  const missing = [...res.stderr.matchAll(/Could not load dynamic library '([^']+)'/g)].map((m) => m[1]);
  const why = missing.length > 0 ? `TensorFlow could not load ${[...new Set(missing)].join(', ')}` : 'TensorFlow created no GPU device';
  return { ok: false, reason: `${why}; tfjs-node-gpu would run on the CPU` };
}

export const DEFAULT_GPU_PROBE_TIMEOUT_MS = 180_000;

export function gpuProbeTimeoutMs(deps: ProbeDeps): number {
  const s = Number(deps.env.CONVSCOPE_GPU_PROBE_TIMEOUT_S);
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_GPU_PROBE_TIMEOUT_MS;
}

/** Every check for 'gpu', cheapest first; the child process only runs when the rest pass. */
export async function probeGpu(deps: ProbeDeps): Promise<ProbeResult<GpuProbe & { version: string }>> {
  const pkg = probePackage(TFJS_NODE_GPU, deps);
  if (!pkg.ok) return pkg;
  const device = await findNvidiaDevice(deps);
  if (!device.ok) return device;
  const libs = await findCudaLibraries(deps);
  if (!libs.ok) return libs;
  const timeoutMs = gpuProbeTimeoutMs(deps);
  const res = await deps.exec(deps.nodeExecutable, ['-e', GPU_PROBE_SOURCE, TFJS_NODE_GPU, deps.resolveFrom], {
    env: { ...deps.env, ELECTRON_RUN_AS_NODE: '1', TF_CPP_MIN_LOG_LEVEL: '0' },
    timeoutMs,
  });
  const verdict = interpretGpuProbe(res, timeoutMs);
  return verdict.ok ? { ...verdict, version: pkg.version } : verdict;
}

/**
 * The package for 'node': tfjs-node, else the GPU build (which runs on the CPU when no GPU is usable).
 * `gpuUsable` is false once 'gpu' was ruled out in this process.
 */
export function probeNode(deps: ProbeDeps): ProbeResult<{ pkg: string; version: string }> {
  const cpu = probePackage(TFJS_NODE, deps);
  if (cpu.ok) return { ok: true, pkg: TFJS_NODE, version: cpu.version };
  const gpu = probePackage(TFJS_NODE_GPU, deps);
  if (gpu.ok) return { ok: true, pkg: TFJS_NODE_GPU, version: gpu.version };
  return { ok: false, reason: `${cpu.reason}; ${TFJS_NODE_GPU} is not installed either` };
}
