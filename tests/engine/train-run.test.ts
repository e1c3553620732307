import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { getModelSpec } from '../../src-main/engine/models';
import {
  defaultConfig,
  defaultOptimizer,
  DivergedError,
  estimateTrainingMemory,
  formatBytes,
  MemoryLimitError,
  readRun,
  resumeRun,
  startRun,
  type KernelIndex,
  type TrainConfig,
  type TrainEvent,
} from '../../src-main/engine/train';
import { bandData } from './train-synthetic';

const tmp = () => mkdtemp(path.join(tmpdir(), 'convscope-train-'));
const prepared = (train = 128, test = 32) => ({ data: bandData(train, test), preprocess: { kind: 'synthetic' }, warnings: [] });

function smallConfig(overrides: Partial<TrainConfig> = {}, model: Record<string, string | number> = {}): TrainConfig {
  return {
    ...defaultConfig('lenet5', 'synthetic'),
    model: { id: 'lenet5', overrides: { input: '16x16x1', width: 0.5, activation: 'relu', ...model } },
    backend: 'cpu',
    batchSize: 16,
    statsEvery: 4,
    snapshotEvery: 4,
    probeSize: 16,
    ...overrides,
  };
}

describe('a training run', () => {
  it('writes a complete run folder and emits its events in order', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(smallConfig({ epochs: 2 }), { runDir, data: prepared(), argv: ['node', 'convscope', 'train', '--model', 'lenet5'] });
    const events: TrainEvent[] = [];
    const collected = (async () => {
      for await (const e of trainer) events.push(e);
    })();
    const result = await trainer.run();
    await collected;
    trainer.dispose();

    // 128 examples / 16 = 8 steps per epoch
    expect(result.state).toBe('finished');
    expect(result.backend).toBe('cpu');
    expect(result.epochs).toHaveLength(2);
    const files = readdirSync(runDir).sort();
    for (const f of ['batch.jsonl', 'checkpoint.bin', 'command.json', 'config.json', 'epochs.jsonl', 'kernels', 'layer-stats.jsonl', 'model', 'preprocess.json', 'spec.json', 'status.json']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.includes('.partial-'))).toBe(false);

    const command = JSON.parse(await readFile(path.join(runDir, 'command.json'), 'utf8'));
    expect(command.argv).toEqual(['node', 'convscope', 'train', '--model', 'lenet5']);
    expect(command.versions.tfjs).toBe(tf.version.tfjs);
    expect(command.host.cpus).toBeGreaterThan(0);
    expect(command.backend).toBeTruthy();

    const run = await readRun(runDir);
    expect(run.status?.state).toBe('finished');
    expect(run.batches.map((b) => b.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(run.batches[8]).toMatchObject({ step: 9, epoch: 2, batch: 1, size: 16, lr: 1e-3 });
    for (const b of run.batches) expect(Number.isFinite(b.loss) && b.accuracy >= 0 && b.accuracy <= 1).toBe(true);
    const [e1, e2] = run.epochs;
    expect(e2.loss).toBeLessThan(e1.loss);
    for (const e of run.epochs) {
      expect(e.examples).toBe(128);
      expect(e.top5Accuracy).toBeGreaterThanOrEqual(e.accuracy);
      expect(e.testAccuracy).not.toBeNull();
      expect(e.imagesPerSecond).toBeCloseTo(128 / e.trainSeconds, 6);
      expect(e.seconds).toBeGreaterThanOrEqual(e.trainSeconds);
    }
    // the epoch's loss is the example-weighted mean of its batch losses
    const firstEpoch = run.batches.filter((b) => b.epoch === 1);
    expect(e1.loss).toBeCloseTo(firstEpoch.reduce((s, b) => s + b.loss * b.size, 0) / 128, 10);

    const index = JSON.parse(await readFile(path.join(runDir, 'kernels', 'index.json'), 'utf8')) as KernelIndex;
    expect(index.layers.map((l) => l.layer)).toEqual(['conv1', 'conv2']);
    expect(index.snapshots.map((s) => s.step)).toEqual([0, 4, 8, 12, 16]);

    // stats every 4 steps; ReLU layers by their activation config, grad norms for weighted layers
    expect(run.layerStats.map((r) => r.step)).toEqual([4, 8, 12, 16]);
    const conv1 = run.layerStats[0].layers.find((l) => l.layer === 'conv1')!;
    expect(conv1.activation).toBe('relu');
    expect(conv1.deadFraction).toHaveLength(3);
    expect(conv1.gradientNorm).toBeGreaterThan(0);
    expect(run.layerStats[0].layers.find((l) => l.layer === 'pool1')!.gradientNorm).toBeUndefined();
    expect(run.layerStats[0].layers.find((l) => l.layer === 'fc3')!.activation).toBe('softmax');

    // events: running first, finished last; batches in order; each epoch after its last batch, then its checkpoint
    expect(events[0]).toEqual({ type: 'state', state: 'running' });
    expect(events.at(-1)).toEqual({ type: 'state', state: 'finished' });
    const steps = events.flatMap((e) => (e.type === 'batch' ? [e.record.step] : []));
    expect(steps).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const at = (pred: (e: TrainEvent) => boolean) => events.findIndex(pred);
    const epoch1 = at((e) => e.type === 'epoch' && e.record.epoch === 1);
    expect(epoch1).toBeGreaterThan(at((e) => e.type === 'batch' && e.record.step === 8));
    expect(epoch1).toBeLessThan(at((e) => e.type === 'batch' && e.record.step === 9));
    expect(events[epoch1 + 1]).toEqual({ type: 'checkpoint', step: 8, reason: 'epoch' });
    const fractions = events.flatMap((e) => (e.type === 'progress' ? [e.progress.fraction] : []));
    expect(fractions.at(-1)).toBe(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  });

  it('counts a channel whose ReLU never fires as dead on the whole probe batch, and tanh saturation', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(smallConfig({ statsEvery: 1 }, { fcActivation: 'tanh' }), { runDir, data: prepared(32, 16) });
    // conv1 channel 1: bias so negative that its ReLU output is 0 everywhere, for every image
    const conv1 = trainer.model.getLayer('conv1');
    const kernel = conv1.getWeights()[0].clone();
    const bias = tf.tensor1d([0, -1e4, 0]);
    conv1.setWeights([kernel, bias]);
    tf.dispose([kernel, bias]);
    await trainer.run();
    trainer.dispose();
    const { layerStats } = await readRun(runDir);
    const stats = layerStats[0].layers.find((l) => l.layer === 'conv1')!;
    expect(stats.deadFraction![1]).toBe(1);
    expect(stats.deadChannels).toBeGreaterThanOrEqual(1);
    const fc1 = layerStats[0].layers.find((l) => l.layer === 'fc1')!;
    expect(fc1.activation).toBe('tanh');
    expect(fc1.saturatedFraction).toBeGreaterThanOrEqual(0);
    expect(fc1.saturatedFraction).toBeLessThanOrEqual(1);
    expect(fc1.deadFraction).toBeUndefined();
  });

  it('keeps the number of tensors constant from step to step', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(smallConfig({ statsEvery: 2, snapshotEvery: 3, checkpointEverySteps: 2 }, { dropout: 0.25 }), { runDir, data: prepared(128, 16) });
    const counts: number[] = [];
    trainer.on((e) => {
      if (e.type === 'batch') counts.push(tf.memory().numTensors);
    });
    const before = tf.memory().numTensors;
    await trainer.run();
    expect(new Set(counts.slice(1)).size).toBe(1);
    trainer.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });

  it('stops a run whose loss becomes NaN or infinite, naming the step', async () => {
    const runDir = path.join(await tmp(), 'run');
    const config = smallConfig({ optimizer: defaultOptimizer('sgd', { lr: 1e12, momentum: 0, weightDecay: 0 }) });
    const trainer = await startRun(config, { runDir, data: prepared(64, 16) });
    const error = await trainer.run().catch((e: unknown) => e);
    trainer.dispose();
    expect(error).toBeInstanceOf(DivergedError);
    const step = (error as DivergedError).step;
    expect(step).toBeGreaterThan(1);
    expect((error as Error).message).toMatch(new RegExp(`became (NaN|-?Infinity) at step ${step} `));
    const run = await readRun(runDir);
    expect(run.status?.state).toBe('failed');
    expect(run.batches.map((b) => b.step)).toEqual(Array.from({ length: step - 1 }, (_, i) => i + 1));
  });

  it('pauses (with a checkpoint), resumes, stops, and continues from the folder', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(smallConfig({ epochs: 2 }), { runDir, data: prepared(64, 16) });
    const seen: string[] = [];
    trainer.on((e) => {
      if (e.type === 'state') seen.push(e.state);
      if (e.type === 'checkpoint') seen.push(`checkpoint:${e.reason}:${e.step}`);
      if (e.type === 'batch' && e.record.step === 2) trainer.pause();
      if (e.type === 'state' && e.state === 'paused') setTimeout(() => trainer.resume(), 20);
      if (e.type === 'batch' && e.record.step === 6) trainer.stop();
    });
    const result = await trainer.run();
    trainer.dispose();
    expect(result.state).toBe('stopped');
    expect(seen).toEqual(['running', 'checkpoint:start:0', 'checkpoint:pause:2', 'paused', 'running', 'checkpoint:epoch:4', 'checkpoint:stop:6', 'stopped']);
    expect((await readRun(runDir)).status?.state).toBe('stopped');

    const resumed = await resumeRun(runDir, { data: prepared(64, 16) });
    const done = await resumed.run();
    resumed.dispose();
    expect(done.state).toBe('finished');
    expect(done.epochs).toHaveLength(2);
    expect((await readRun(runDir)).batches.map((b) => b.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses, before allocating anything, a step the backend cannot hold', async () => {
    const parent = await tmp();
    const config = { ...defaultConfig('alexnet', 'synthetic'), backend: 'wasm', batchSize: 4096 };
    const error = await startRun(config, { runsDir: parent }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryLimitError);
    const estimate = estimateTrainingMemory(getModelSpec('alexnet'), 4096, config.optimizer);
    expect(estimate.totalBytes).toBeGreaterThan(60 * 2 ** 30);
    expect((error as Error).message).toMatch(/^alexnet at batch 4096 needs about /);
    expect((error as Error).message).toContain(`needs about ${formatBytes(estimate.totalBytes)} (weights 233 MiB,`);
    expect((error as Error).message).toContain('more than the wasm backend can hold: 4.0 GiB');
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('run folder safety', () => {
  it('does not start a new run in a folder that already has files', async () => {
    const runDir = path.join(await tmp(), 'run');
    const first = await startRun(smallConfig({ limit: 16 }), { runDir, data: prepared(16, 16) });
    first.dispose();
    await expect(startRun(smallConfig(), { runDir, data: prepared(16, 16) })).rejects.toThrow(/not empty/);
  });
});
