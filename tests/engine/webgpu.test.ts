import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeAdapter, explainNoAdapter } from '../../src-main/engine/backend/webgpu';
import { fakeDeps } from './backend-fakes';

const LDCONFIG_VULKAN = '\tlibvulkan.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libvulkan.so.1\n';

describe('why WebGPU has no adapter', () => {
  it('names the missing Vulkan loader', async () => {
    expect(await explainNoAdapter(fakeDeps({ ldconfig: '' }))).toMatch(/^the Vulkan loader libvulkan\.so\.1 is not installed \(Debian\/Ubuntu: apt install libvulkan1\)/);
  });

  it('finds the loader on LD_LIBRARY_PATH, then names the missing driver', async () => {
    const deps = fakeDeps({ env: { LD_LIBRARY_PATH: '/opt/vk' }, files: ['/opt/vk/libvulkan.so.1'], ldconfig: '' });
    expect(await explainNoAdapter(deps)).toMatch(/^no Vulkan driver is installed \(no ICD manifest in \/etc\/vulkan\/icd\.d, /);
  });

  it('names a VK_ICD_FILENAMES manifest that does not exist', async () => {
    const deps = fakeDeps({ env: { VK_ICD_FILENAMES: '/nowhere/icd.json' }, ldconfig: LDCONFIG_VULKAN });
    expect(await explainNoAdapter(deps)).toBe('the Vulkan driver manifest named in VK_ICD_FILENAMES/VK_DRIVER_FILES does not exist (/nowhere/icd.json)');
  });

  it('lists installed drivers that expose no device', async () => {
    const deps = fakeDeps({ ldconfig: LDCONFIG_VULKAN, dirs: { '/usr/share/vulkan/icd.d': ['nvidia_icd.json', 'README'] } });
    expect(await explainNoAdapter(deps)).toMatch(/^the installed Vulkan drivers \(\/usr\/share\/vulkan\/icd\.d\/nvidia_icd\.json\) expose no device/);
  });

  it('tells software adapters from GPUs', () => {
    const swiftshader = { info: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true } };
    expect(describeAdapter(swiftshader).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' } })).toEqual({
      vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', software: false,
    });
  });
});

// Chromium's SwiftShader Vulkan driver (a CPU implementation of Vulkan) gives Dawn an adapter on a
// machine without a GPU. Its own Vulkan loader serves when the system has none.
const CHROMIUM = '/usr/lib/chromium';
const SWIFTSHADER_ICD = path.join(CHROMIUM, 'vk_swiftshader_icd.json');
const here = path.dirname(fileURLToPath(import.meta.url));

function maxRelError(got: number[], want: number[]): number {
  expect(got.length).toBe(want.length);
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  return Math.max(...got.map((g, i) => Math.abs(g - want[i]))) / scale;
}

describe('webgpu backend on SwiftShader', () => {
  it('matches the cpu backend: outputs and parameter gradients of a small conv net', { timeout: 120_000 }, (ctx) => {
    if (!existsSync(SWIFTSHADER_ICD)) ctx.skip(`no SwiftShader Vulkan driver (${SWIFTSHADER_ICD}; apt install chromium)`);
    const systemLoader = ['/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/x86_64-linux-gnu/libvulkan.so.1'].some(existsSync);
    const env = {
      ...process.env,
      VK_ICD_FILENAMES: SWIFTSHADER_ICD,
      ...(systemLoader ? {} : { LD_LIBRARY_PATH: [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }),
    };
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'webgpu-parity-child.ts')], { env, encoding: 'utf8', timeout: 110_000 });
    expect(child.status, child.stderr).toBe(0);
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    const result = JSON.parse(line) as
      | { ok: true; report: { chosen: string; tfBackend: string; webgpuAdapter: { software: boolean; description: string } }; description: string; webgpu: { output: number[]; grads: number[][] }; cpu: { output: number[]; grads: number[][] } }
      | { ok: false; reason: string };
    if (!result.ok) ctx.skip(`webgpu unavailable: ${result.reason}`);
    else {
      expect(result.report).toMatchObject({ chosen: 'webgpu', tfBackend: 'webgpu', webgpuAdapter: { software: true } });
      expect(result.report.webgpuAdapter.description).toMatch(/SwiftShader/);
      expect(result.description).toMatch(/^Backend: webgpu, WebGPU through Dawn .*adapter SwiftShader.*\(software: emulated on the CPU\)/);
      expect(result.webgpu.output.length).toBe(30);
      expect(maxRelError(result.webgpu.output, result.cpu.output)).toBeLessThan(1e-4);
      expect(result.webgpu.grads.length).toBe(6);
      result.webgpu.grads.forEach((g, i) => {
        expect(g.some((v) => v !== 0)).toBe(true);
        expect(maxRelError(g, result.cpu.grads[i])).toBeLessThan(1e-4);
      });
    }
  });
});
