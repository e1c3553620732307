// The blog's dying ReLU, measured: on a small seeded run, large SGD steps leave more ReLU channels dead
// (zero on every probe image) than a sane learning rate does.
import { describe, it, expect } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, readRun, startRun, type TrainConfig } from '../../src-main/engine/train';

async function deadChannelsAfterTraining(lr: number): Promise<number> {
  const config: TrainConfig = {
    ...defaultConfig('lenet5', 'mnist'),
    model: { id: 'lenet5', overrides: { activation: 'relu' } },
    preprocess: 'scale',
    optimizer: { kind: 'sgd', lr, momentum: 0, weightDecay: 0 },
    batchSize: 128,
    limit: 2560,
    testLimit: 256,
    seed: 1,
    backend: 'wasm',
    statsEvery: 20,
    snapshotEvery: 0,
  };
  const runDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'convscope-dead-')), `lr-${lr}`);
  const trainer = await startRun(config, { runDir });
  await trainer.run();
  trainer.dispose();
  const last = (await readRun(runDir)).layerStats.at(-1)!;
  expect(last.step).toBe(20);
  return last.layers.reduce((sum, l) => sum + (l.deadChannels ?? 0), 0);
}

describe('dead ReLUs against the learning rate', () => {
  it('SGD at lr 1.0 kills more ReLU channels than at lr 0.01 on the same seeded run', async () => {
    const sane = await deadChannelsAfterTraining(0.01);
    const high = await deadChannelsAfterTraining(1.0);
    expect(high).toBeGreaterThanOrEqual(2 * sane);
    expect(high - sane).toBeGreaterThanOrEqual(20);
  }, 120_000);
});
