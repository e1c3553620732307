// The committed wasm kernels (direct-binary.ts) are what their AssemblyScript source compiles to, and
// each build imports the backend's memory and nothing else (no data segment may write into it).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildWasmKernels, OUTPUT } from '../../scripts/build-wasm-kernels.mjs';
import { SHARED_MEMORY_KERNELS, UNSHARED_MEMORY_KERNELS } from '../../src-main/engine/backend/wasm-kernels/direct-binary';

describe('ConvScope wasm kernels', () => {
  it('direct-binary.ts is a fresh build of assembly/kernels.ts', { timeout: 120_000 }, async () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(await buildWasmKernels());
  });

  for (const [name, base64, shared] of [['shared', SHARED_MEMORY_KERNELS, true], ['unshared', UNSHARED_MEMORY_KERNELS, false]] as const) {
    it(`the ${name}-memory build imports only env.memory and writes nothing at instantiation`, () => {
      const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
      expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort()).toEqual(['addBias', 'conv2d', 'convBackpropFilter', 'convBackpropInput', 'crop', 'lrn', 'maxPoolGrad', 'positiveChannels', 'sumRows', 'summarize', 'tanh', 'tanhGrad']);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
      new Uint8Array(memory.buffer).fill(0xa5);
      new WebAssembly.Instance(module, { env: { memory } });
      expect(new Uint8Array(memory.buffer).every((b) => b === 0xa5)).toBe(true);
    });
  }
});
