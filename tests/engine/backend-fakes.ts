// A fake machine for the backend probes: which packages, files, libraries and GPUs it has.
import type { ExecOptions, ExecResult, ProbeDeps } from '../../src-main/engine/backend/probe-deps';

export type FakeMachine = {
  platform?: NodeJS.Platform;
  env?: Record<string, string | undefined>;
  packages?: Record<string, string>;
  files?: string[];
  dirs?: Record<string, string[]>;
  /** `ldconfig -p` output; undefined: ldconfig is not on this machine. */
  ldconfig?: string;
  /** `nvidia-smi -L` output; undefined: nvidia-smi is not installed. */
  nvidiaSmi?: string;
  /** What the GPU probe child prints. */
  probeChild?: Partial<ExecResult>;
};

export type FakeDeps = ProbeDeps & { calls: { command: string; args: string[]; options?: ExecOptions }[] };

const missing = (): ExecResult => ({ status: null, stdout: '', stderr: '', timedOut: false, startError: 'spawn ENOENT' });
const done = (stdout: string): ExecResult => ({ status: 0, stdout, stderr: '', timedOut: false });

export function fakeDeps(m: FakeMachine = {}): FakeDeps {
  const calls: FakeDeps['calls'] = [];
  return {
    calls,
    env: m.env ?? {},
    platform: m.platform ?? 'linux',
    packageVersion: (name) => m.packages?.[name] ?? null,
    exists: (p) => (m.files ?? []).includes(p),
    listDir: (d) => m.dirs?.[d] ?? [],
    nodeExecutable: '/fake/node',
    resolveFrom: '/fake/app',
    async exec(command, args, options) {
      calls.push({ command, args, options });
      if (command === '/fake/node') {
        return { status: 0, stdout: '', stderr: '', timedOut: false, ...m.probeChild };
      }
      if (command === 'ldconfig' || command === '/sbin/ldconfig') return m.ldconfig === undefined ? missing() : done(m.ldconfig);
      if (command === 'nvidia-smi') return m.nvidiaSmi === undefined ? missing() : done(m.nvidiaSmi);
      return missing();
    },
  };
}

export const LDCONFIG_CUDA11 = [
  '1234 libs found in cache `/etc/ld.so.cache\'',
  '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8',
  '\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.2/lib64/libcudart.so.11.0',
  '\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6',
].join('\n');

export const SMI_H100 = 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0f0e0d0c-0b0a-0908-0706-050403020100)\n';

/** What TensorFlow 2.9 logs on stderr (TF_CPP_MIN_LOG_LEVEL=0) when it creates a GPU device. */
export const TF_GPU_LOG =
  '2026-11-28 02:00:00.000000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device ' +
  '/job:localhost/replica:0/task:0/device:GPU:0 with 78000 MB memory:  -> device: 0, name: NVIDIA H100 80GB HBM3, ' +
  'pci bus id: 0000:00:05.0, compute capability: 9.0\n';

export function probeSays(verdict: Record<string, unknown>, stderr = ''): Partial<ExecResult> {
  return { status: verdict.ok ? 0 : 1, stdout: `CONVSCOPE_GPU_PROBE ${JSON.stringify(verdict)}\n`, stderr };
}
