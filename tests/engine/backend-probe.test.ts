import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  findCudaLibraries, findNvidiaDevice, interpretGpuProbe, parseLdconfig, probeGpu, probeNode, probePackage,
  TFJS_NODE, TFJS_NODE_GPU,
} from '../../src-main/engine/backend/native-probe';
import { polyfillNodeUtil } from '../../src-main/engine/backend/node-util-polyfill';
import { realProbeDeps } from '../../src-main/engine/backend/probe-deps';
import { fakeDeps, LDCONFIG_CUDA11, probeSays, SMI_H100, TF_GPU_LOG } from './backend-fakes';

describe('native package probes', () => {
  it('names the missing package precisely', () => {
    expect(probePackage(TFJS_NODE_GPU, fakeDeps())).toEqual({
      ok: false,
      reason: 'not installed (@tensorflow/tfjs-node-gpu is not in node_modules)',
    });
    expect(probePackage(TFJS_NODE, fakeDeps({ packages: { [TFJS_NODE]: '4.22.0' } }))).toEqual({ ok: true, version: '4.22.0' });
  });

  it("uses tfjs-node for 'node', else the GPU build on the CPU", () => {
    expect(probeNode(fakeDeps({ packages: { [TFJS_NODE]: '4.22.0', [TFJS_NODE_GPU]: '4.22.0' } }))).toMatchObject({ ok: true, pkg: TFJS_NODE });
    expect(probeNode(fakeDeps({ packages: { [TFJS_NODE_GPU]: '4.22.0' } }))).toMatchObject({ ok: true, pkg: TFJS_NODE_GPU });
    const none = probeNode(fakeDeps());
    expect(none.ok).toBe(false);
    expect(!none.ok && none.reason).toMatch(/^not installed \(@tensorflow\/tfjs-node is not in node_modules\)/);
  });
});

describe('CUDA 11 libraries', () => {
  it('finds libcudart.so.11 and libcudnn.so.8 in the ldconfig cache', async () => {
    const r = await findCudaLibraries(fakeDeps({ ldconfig: LDCONFIG_CUDA11 }));
    expect(r).toEqual({
      ok: true,
      found: {
        'libcudart.so.11.0': '/usr/local/cuda-11.2/lib64/libcudart.so.11.0',
        'libcudnn.so.8': '/usr/lib/x86_64-linux-gnu/libcudnn.so.8',
      },
    });
  });

  it('finds them in LD_LIBRARY_PATH folders when ldconfig does not list them', async () => {
    const r = await findCudaLibraries(fakeDeps({
      env: { LD_LIBRARY_PATH: '/opt/a:/opt/cuda/lib64' },
      dirs: { '/opt/cuda/lib64': ['libcudart.so.11.2.152', 'libcudnn.so.8.1.0'] },
    }));
    expect(r).toMatchObject({ ok: true, found: { 'libcudart.so.11.0': '/opt/cuda/lib64/libcudart.so.11.2.152' } });
  });

  it('names each missing library, and does not take CUDA 12 for 11', async () => {
    const cuda12 = '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.12\n';
    expect(await findCudaLibraries(fakeDeps({ ldconfig: cuda12 }))).toEqual({
      ok: false,
      reason: 'no CUDA 11 libraries found (libcudart.so.11.0, libcudnn.so.8)',
    });
    const onlyCudnn = '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/libcudnn.so.8\n';
    expect(await findCudaLibraries(fakeDeps({ ldconfig: onlyCudnn }))).toEqual({
      ok: false,
      reason: 'no CUDA 11 libraries found (libcudart.so.11.0)',
    });
  });

  it('parses ldconfig -p lines', () => {
    expect([...parseLdconfig(LDCONFIG_CUDA11).keys()]).toEqual(['libcudnn.so.8', 'libcudart.so.11.0', 'libc.so.6']);
  });

  it('says there is no CUDA on macOS', async () => {
    expect(await findCudaLibraries(fakeDeps({ platform: 'darwin' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/no CUDA on darwin/) });
  });
});

describe('NVIDIA device', () => {
  it('takes the name nvidia-smi lists', async () => {
    expect(await findNvidiaDevice(fakeDeps({ nvidiaSmi: SMI_H100 }))).toEqual({ ok: true, name: 'NVIDIA H100 80GB HBM3' });
  });
  it('accepts /dev/nvidia0 without nvidia-smi', async () => {
    expect(await findNvidiaDevice(fakeDeps({ files: ['/dev/nvidia0'] }))).toEqual({ ok: true });
  });
  it('says why there is none', async () => {
    expect(await findNvidiaDevice(fakeDeps())).toEqual({ ok: false, reason: 'no GPU device (no /dev/nvidia0, nvidia-smi not found)' });
    expect(await findNvidiaDevice(fakeDeps({ nvidiaSmi: 'No devices found.\n' }))).toEqual({
      ok: false,
      reason: 'no GPU device (no /dev/nvidia0, nvidia-smi lists no GPU)',
    });
  });
});

describe('GPU probe child verdict', () => {
  const res = (p: Partial<ReturnType<typeof probeSays>>) => ({ status: 0, stdout: '', stderr: '', timedOut: false, ...p });

  it('accepts a GPU device from the TensorFlow log and names it', () => {
    const v = interpretGpuProbe(res(probeSays({ ok: true, isUsingGpuDevice: true, tensorflow: '2.9.1' }, TF_GPU_LOG)), 1000);
    expect(v).toEqual({ ok: true, device: 'GPU:0 (NVIDIA H100 80GB HBM3)', tensorflow: '2.9.1' });
  });

  it('rejects the GPU build running on the CPU, naming the libraries TensorFlow could not load', () => {
    const log =
      "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcublas.so.11'; dlerror: not found\n" +
      "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcufft.so.10'; dlerror: not found\n";
    const v = interpretGpuProbe(res(probeSays({ ok: true, isUsingGpuDevice: false }, log)), 1000);
    expect(v).toEqual({ ok: false, reason: 'TensorFlow could not load libcublas.so.11, libcufft.so.10; tfjs-node-gpu would run on the CPU' });
    expect(interpretGpuProbe(res(probeSays({ ok: true, isUsingGpuDevice: false })), 1000)).toEqual({
      ok: false,
      reason: 'TensorFlow created no GPU device; tfjs-node-gpu would run on the CPU',
    });
  });

  it('reports a load error, a time-out and a crash', () => {
    expect(interpretGpuProbe(res(probeSays({ ok: false, error: 'libtensorflow.so.2: cannot open shared object file' })), 1000))
      .toEqual({ ok: false, reason: 'load error: libtensorflow.so.2: cannot open shared object file' });
    expect(interpretGpuProbe(res({ status: null, timedOut: true }), 180_000).ok).toBe(false);
    expect(interpretGpuProbe(res({ status: null, timedOut: true }), 180_000)).toMatchObject({ reason: expect.stringMatching(/within 180 s/) });
    expect(interpretGpuProbe(res({ status: 139, stderr: 'Segmentation fault\n' }), 1000)).toEqual({
      ok: false,
      reason: 'the GPU probe exited with code 139 (Segmentation fault)',
    });
  });
});

describe('probeGpu', () => {
  const gpuMachine = {
    packages: { [TFJS_NODE_GPU]: '4.22.0' },
    nvidiaSmi: SMI_H100,
    ldconfig: LDCONFIG_CUDA11,
    probeChild: probeSays({ ok: true, isUsingGpuDevice: true, tensorflow: '2.9.1' }, TF_GPU_LOG),
  };

  it('runs the child with TensorFlow logging on only after the cheap checks pass', async () => {
    const deps = fakeDeps(gpuMachine);
    expect(await probeGpu(deps)).toEqual({ ok: true, device: 'GPU:0 (NVIDIA H100 80GB HBM3)', tensorflow: '2.9.1', version: '4.22.0' });
    const child = deps.calls.find((c) => c.command === '/fake/node');
    expect(child?.args.slice(2)).toEqual([TFJS_NODE_GPU, '/fake/app']);
    expect(child?.options?.env).toMatchObject({ TF_CPP_MIN_LOG_LEVEL: '0', ELECTRON_RUN_AS_NODE: '1' });
  });

  it('spawns nothing when the package, the device or the libraries are missing', async () => {
    for (const [machine, reason] of [
      [{ ...gpuMachine, packages: {} }, /^not installed/],
      [{ ...gpuMachine, nvidiaSmi: undefined }, /^no GPU device/],
      [{ ...gpuMachine, ldconfig: '' }, /^no CUDA 11 libraries found \(libcudart\.so\.11\.0, libcudnn\.so\.8\)$/],
    ] as const) {
      const deps = fakeDeps(machine);
      const r = await probeGpu(deps);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(reason);
      expect(deps.calls.some((c) => c.command === '/fake/node')).toBe(false);
    }
  });

  it('honours CONVSCOPE_GPU_PROBE_TIMEOUT_S', async () => {
    const deps = fakeDeps({ ...gpuMachine, env: { CONVSCOPE_GPU_PROBE_TIMEOUT_S: '900' } });
    await probeGpu(deps);
    expect(deps.calls.find((c) => c.command === '/fake/node')?.options?.timeoutMs).toBe(900_000);
  });
});

describe('the probe child for real (a stand-in package in a temporary node_modules)', () => {
  it('polyfills util, loads the package, runs a matmul and reports the GPU device', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convscope-probe-'));
    try {
      const pkgDir = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
      mkdirSync(pkgDir, { recursive: true });
      writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: TFJS_NODE_GPU, version: '4.22.0', main: 'index.js' }));
      // Like tfjs-node 4.22 on Node 23+: it calls util.isNullOrUndefined at load time.
      writeFileSync(path.join(pkgDir, 'index.js'), `
        const util = require('util');
        if (!util.isNullOrUndefined(undefined)) throw new Error('polyfill missing');
        if (process.env.TF_CPP_MIN_LOG_LEVEL === '0') process.stderr.write(${JSON.stringify(TF_GPU_LOG)});
        const t = { dataSync: () => new Float32Array(1) };
        module.exports = {
          ones: () => t, matMul: () => t, getBackend: () => 'tensorflow',
          backend: () => ({ isUsingGpuDevice: true, binding: { TF_Version: '2.9.1' } }),
          version: { 'tfjs-node': '4.22.0' },
        };`);
      const deps = { ...realProbeDeps(), resolveFrom: dir };
      const verdict = await probeGpu({
        ...deps,
        packageVersion: (name) => (name === TFJS_NODE_GPU ? '4.22.0' : null),
        exec: (cmd, args, opts) =>
          cmd === deps.nodeExecutable
            ? deps.exec(cmd, args, opts)
            : Promise.resolve(cmd === 'nvidia-smi' ? { status: 0, stdout: SMI_H100, stderr: '', timedOut: false } : { status: 0, stdout: LDCONFIG_CUDA11, stderr: '', timedOut: false }),
      });
      expect(verdict).toEqual({ ok: true, device: 'GPU:0 (NVIDIA H100 80GB HBM3)', tensorflow: '2.9.1', version: '4.22.0' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('util polyfill for tfjs-node on Node 23+', () => {
  it('adds isNullOrUndefined and isArray where they are missing, and keeps existing ones', () => {
    const bare: { isNullOrUndefined?: unknown; isArray?: unknown } = {};
    polyfillNodeUtil(bare);
    expect((bare.isNullOrUndefined as (v: unknown) => boolean)(null)).toBe(true);
    expect((bare.isNullOrUndefined as (v: unknown) => boolean)(0)).toBe(false);
    expect((bare.isArray as (v: unknown) => boolean)([])).toBe(true);
    const own = () => true;
    const full = { isNullOrUndefined: own, isArray: own };
    polyfillNodeUtil(full);
    expect(full.isNullOrUndefined).toBe(own);
  });
});
