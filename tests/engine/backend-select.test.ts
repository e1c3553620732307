// initBackend end to end. The native packages cannot be installed here: a stand-in loader registers
// a 'tensorflow' backend (a second instance of the JavaScript backend) the way tfjs-node does.
// wasm and cpu are real. Each test imports the backend module afresh (it remembers what it loaded).
import os from 'node:os';
import { describe, it, expect, vi, beforeEach } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { TFJS_NODE, TFJS_NODE_GPU } from '../../src-main/engine/backend/native-probe';
import { fakeDeps, LDCONFIG_CUDA11, probeSays, SMI_H100, TF_GPU_LOG, type FakeMachine } from './backend-fakes';

type BackendModule = typeof import('../../src-main/engine/backend');
let backend: BackendModule;

beforeEach(async () => {
  vi.resetModules();
  backend = await import('../../src-main/engine/backend');
});

/** Stands in for requiring tfjs-node(-gpu): registers and selects 'tensorflow'. */
function fakeNativeLoader(usesGpu: boolean) {
  const loaded: string[] = [];
  const load = (pkg: string) => {
    loaded.push(pkg);
    if (!tf.findBackend('tensorflow')) {
      const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
      tf.registerBackend('tensorflow', () => new Cpu());
    }
    tf.setBackend('tensorflow');
    (tf.findBackend('tensorflow') as unknown as { isUsingGpuDevice: boolean }).isUsingGpuDevice = usesGpu;
  };
  return { load, loaded };
}

const NO_VULKAN = 'the Vulkan loader libvulkan.so.1 is not installed (Debian/Ubuntu: apt install libvulkan1), so Dawn cannot reach any GPU';

const GPU_MACHINE: FakeMachine = {
  packages: { [TFJS_NODE_GPU]: '4.22.0', [TFJS_NODE]: '4.22.0' },
  nvidiaSmi: SMI_H100,
  ldconfig: LDCONFIG_CUDA11,
  probeChild: probeSays({ ok: true, isUsingGpuDevice: true, tensorflow: '2.9.1' }, TF_GPU_LOG),
};

describe('initBackend with native packages (stand-ins)', () => {
  it("auto picks 'gpu' when the probe child saw TensorFlow create a GPU device", async () => {
    const native = fakeNativeLoader(true);
    const report = await backend.initBackend('auto', { deps: fakeDeps(GPU_MACHINE), loadNative: native.load });
    expect(report).toMatchObject({
      requested: 'auto', chosen: 'gpu', tfBackend: 'tensorflow', skipped: [],
      nativePackage: TFJS_NODE_GPU, gpuDevice: 'GPU:0 (NVIDIA H100 80GB HBM3)',
      versions: { 'tfjs-node-gpu': '4.22.0', tensorflow: '2.9.1', tfjs: tf.version.tfjs, node: process.versions.node },
    });
    expect(native.loaded).toEqual([TFJS_NODE_GPU]);
    expect(backend.describeBackend(report)).toMatch(/^Backend: gpu, .*device GPU:0 \(NVIDIA H100 80GB HBM3\)/);
  });

  it("auto falls to 'node' without CUDA 11 and never loads the GPU build", async () => {
    const native = fakeNativeLoader(false);
    const report = await backend.initBackend(undefined, { deps: fakeDeps({ ...GPU_MACHINE, ldconfig: '' }), loadNative: native.load });
    expect(report.chosen).toBe('node');
    expect(report.nativePackage).toBe(TFJS_NODE);
    expect(report.skipped).toEqual([
      { backend: 'gpu', reason: 'no CUDA 11 libraries found (libcudart.so.11.0, libcudnn.so.8)' },
      { backend: 'webgpu', reason: NO_VULKAN },
    ]);
    expect(native.loaded).toEqual([TFJS_NODE]);
    expect(backend.describeBackend(report)).toContain('skipped gpu: no CUDA 11 libraries found (libcudart.so.11.0, libcudnn.so.8)');
  });

  it("'node' uses the GPU build on the CPU when tfjs-node is not installed", async () => {
    const native = fakeNativeLoader(false);
    const deps = fakeDeps({ packages: { [TFJS_NODE_GPU]: '4.22.0' } });
    const report = await backend.initBackend('node', { deps, loadNative: native.load });
    expect(report).toMatchObject({ chosen: 'node', nativePackage: TFJS_NODE_GPU, tfBackend: 'tensorflow' });
    expect(report.gpuDevice).toBeUndefined();
    expect(backend.describeBackend(report)).toContain('GPU build running on the CPU');
  });

  it('an explicit gpu that cannot run is an error naming the reason, and loads nothing', async () => {
    const native = fakeNativeLoader(true);
    const deps = fakeDeps({ ...GPU_MACHINE, nvidiaSmi: undefined });
    const err = await backend.initBackend('gpu', { deps, loadNative: native.load }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(backend.BackendUnavailableError);
    expect((err as Error).message).toBe(
      "The 'gpu' backend was requested but cannot be used: no GPU device (no /dev/nvidia0, nvidia-smi not found)",
    );
    expect(native.loaded).toEqual([]);
  });

  it('a native load error is skipped with its message under auto, and fatal when asked for', async () => {
    const failing = () => {
      throw new Error('libtensorflow.so.2: cannot open shared object file');
    };
    const deps = fakeDeps({ packages: { [TFJS_NODE]: '4.22.0' } });
    const report = await backend.initBackend('auto', { deps, loadNative: failing });
    expect(report.chosen).toBe('wasm');
    expect(report.skipped).toEqual([
      { backend: 'gpu', reason: 'not installed (@tensorflow/tfjs-node-gpu is not in node_modules)' },
      { backend: 'webgpu', reason: NO_VULKAN },
      { backend: 'node', reason: 'load error: libtensorflow.so.2: cannot open shared object file' },
    ]);
    await expect(backend.initBackend('node', { deps, loadNative: failing })).rejects.toThrow(
      "The 'node' backend was requested but cannot be used: load error: libtensorflow.so.2: cannot open shared object file",
    );
  });
});

describe('initBackend for real on this machine (no native packages)', () => {
  it('auto chooses wasm, says why gpu, webgpu and node were skipped, and registers the training kernels', async () => {
    const report = await backend.initBackend('auto', { deps: fakeDeps() });
    const threads = backend.defaultThreads();
    expect(threads).toBe(Math.min(8, os.availableParallelism()));
    expect(report).toMatchObject({ requested: 'auto', chosen: 'wasm', tfBackend: 'wasm', simd: true, threads });
    expect(report.skipped.map((s) => s.backend)).toEqual(['gpu', 'webgpu', 'node']);
    expect(report.skipped[0].reason).toBe('not installed (@tensorflow/tfjs-node-gpu is not in node_modules)');
    expect(report.versions['tfjs-backend-wasm']).toBe(tf.version.tfjs);
    expect(report.wasmKernels?.map((k) => k.kernel)).toEqual(['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'Tanh', 'ConvScopeTanhGrad', 'Add', 'Sum', 'Identity', 'Slice', 'SplitV', 'LRN']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const text = backend.describeBackend(report);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain(`skipped webgpu: ${NO_VULKAN}`);
    expect(text).toMatch(new RegExp(`^Backend: wasm, WebAssembly \\(XNNPACK\\) \\(auto; SIMD on, ${threads} threads?, 14 kernels added or replaced by ConvScope`));
  });

  it('runs wasm on the threads asked for, keeps the running count when none is asked, and refuses a bad count', async () => {
    const one = await backend.initBackend('wasm', { deps: fakeDeps(), threads: 1 });
    expect(one.threads).toBe(1);
    expect(backend.describeBackend(one)).toContain('SIMD on, 1 thread,');
    const two = await backend.initBackend('wasm', { deps: fakeDeps(), threads: 2 });
    expect(two.threads).toBe(2);
    expect(backend.describeBackend(two)).toContain('SIMD on, 2 threads,');
    // The new backend computes (the old one's tensors are gone with it).
    expect(Array.from(await tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).data())).toEqual([3, 3, 3, 3]);
    expect((await backend.initBackend('wasm', { deps: fakeDeps() })).threads).toBe(2);
    expect((await backend.initBackend('wasm', { deps: fakeDeps({ env: { CONVSCOPE_THREADS: '1' } }) })).threads).toBe(1);
    await expect(backend.initBackend('wasm', { deps: fakeDeps({ env: { CONVSCOPE_THREADS: 'all' } }) })).rejects.toThrow(
      "CONVSCOPE_THREADS must be a whole number from 1 to 8 (got 'all')",
    );
    for (const bad of ['0', '9', '1.5', '']) expect(() => backend.parseThreads(bad)).toThrow(backend.InvalidThreadsError);
    expect(backend.parseThreads(' 3 ')).toBe(3);
  });

  it('reads CONVSCOPE_BACKEND when no choice is given, and rejects a bad value', async () => {
    const report = await backend.initBackend(undefined, { deps: fakeDeps({ env: { CONVSCOPE_BACKEND: 'cpu' } }) });
    expect(report).toMatchObject({ requested: 'cpu', chosen: 'cpu', tfBackend: 'cpu', skipped: [] });
    await expect(backend.initBackend(undefined, { deps: fakeDeps({ env: { CONVSCOPE_BACKEND: 'cuda' } }) })).rejects.toThrow(
      "CONVSCOPE_BACKEND must be one of auto, gpu, webgpu, node, wasm, cpu; got 'cuda'",
    );
    await expect(backend.initBackend('tpu', { deps: fakeDeps() })).rejects.toBeInstanceOf(backend.InvalidBackendChoiceError);
  });

  it('auto does not load Dawn where no Vulkan driver is installed; an explicit webgpu names what is missing', async () => {
    const deps = fakeDeps({ ldconfig: '\tlibvulkan.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libvulkan.so.1\n' });
    const report = await backend.initBackend('auto', { deps });
    expect(report.skipped.find((s) => s.backend === 'webgpu')?.reason).toMatch(/^no Vulkan driver is installed \(no ICD manifest in \/etc\/vulkan\/icd\.d/);
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    await expect(backend.initBackend('webgpu', { deps: fakeDeps({ packages: {} }) })).rejects.toThrow(
      "The 'webgpu' backend was requested but cannot be used: not installed (webgpu is not in node_modules)",
    );
  });

  it('an explicit wasm works and an explicit node without the package is an error', async () => {
    expect((await backend.initBackend('wasm', { deps: fakeDeps() })).tfBackend).toBe('wasm');
    await expect(backend.initBackend('node', { deps: fakeDeps() })).rejects.toThrow(/^The 'node' backend was requested but cannot be used: not installed/);
  });
});
