import { defaultConfig, type TrainConfig } from '../../src-main/engine/train';

/** A small seeded run with dropout: 2 epochs of 16 steps, a checkpoint every 4 steps. */
export function resumeTestConfig(backend: string, threads: number | null = null): TrainConfig {
  const config = defaultConfig('lenet5', 'synthetic');
  return {
    ...config,
    model: { id: 'lenet5', overrides: { input: '16x16x1', width: 0.5, dropout: 0.3, activation: 'relu' } },
    backend,
    threads,
    batchSize: 16,
    epochs: 2,
    seed: 7,
    checkpointEverySteps: 4,
    statsEvery: 8,
    snapshotEvery: 8,
    probeSize: 16,
  };
}
