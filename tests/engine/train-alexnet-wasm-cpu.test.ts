// The zoo's AlexNet (LRN, 11x11/4 conv1, grouped conv2/4/5, overlapping pooling, dropout), scaled down,
// trained 20 steps by the real trainer on wasm and on cpu from the same seed: the loss falls on both and
// the two loss sequences agree to 1e-3. The cpu backend is slow at conv1's stride-4 gradients, hence
// batch 8 and width 0.125 (conv1 has 12 kernels).
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, startRun, type TrainConfig } from '../../src-main/engine/train';
import { stripeSplit } from './train-synthetic';

const STEPS = 20;
const BATCH = 8;

async function losses(backend: 'wasm' | 'cpu'): Promise<number[]> {
  const config: TrainConfig = {
    ...defaultConfig('alexnet', 'synthetic'),
    model: { id: 'alexnet', overrides: { input: '67x67x3', width: 0.125, classes: 10 } },
    backend,
    batchSize: BATCH,
    epochs: STEPS, // one batch per epoch: the same 8 images, reshuffled
    statsEvery: 0,
    snapshotEvery: 0,
    probeSize: BATCH,
    seed: 3,
  };
  const runDir = path.join(await mkdtemp(path.join(tmpdir(), 'convscope-alexnet-')), backend);
  const data = { classes: 10, train: stripeSplit(BATCH, 67), test: null };
  const trainer = await startRun(config, { runDir, data: { data, preprocess: { kind: 'synthetic' }, warnings: [] } });
  const result = await trainer.run();
  trainer.dispose();
  expect(result.backend).toBe(backend);
  const lines = (await readFile(path.join(runDir, 'batch.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((l) => (JSON.parse(l) as { loss: number }).loss);
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('a tiny zoo AlexNet trains alike on wasm and cpu', () => {
  it('20 Adam steps: the loss falls on both, and the sequences agree to 1e-3', { timeout: 300_000 }, async () => {
    const wasm = await losses('wasm');
    const cpu = await losses('cpu');
    expect(wasm).toHaveLength(STEPS);
    expect(cpu).toHaveLength(STEPS);
    for (const run of [wasm, cpu]) {
      expect(run[0]).toBeCloseTo(Math.log(10), 1); // an untrained 10-way softmax
      expect(mean(run.slice(-5))).toBeLessThan(mean(run.slice(0, 5)) - 0.1);
    }
    wasm.forEach((l, i) => expect(Math.abs(l - cpu[i])).toBeLessThanOrEqual(1e-3));
  });
});
