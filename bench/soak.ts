// The memory soak: LeNet-5 trained for many steps at batch 32 by the real Trainer (MNIST in memory,
// its logs, kernel snapshots, layer statistics, epoch evaluations and checkpoints), sampling the
// tensor count and the process's resident memory as it goes. No growth is the expectation.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src-main/engine/tf';
import { getModelSpec } from '../src-main/engine/models';
import { defaultConfig, startRun, type TrainConfig } from '../src-main/engine/train';
import { openTrainData } from '../src-main/engine/train/open-data';
import { emit, loadAverage, round } from './harness';

export interface SoakSample {
  step: number;
  numTensors: number;
  numBytes: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** The wasm heap grows and never shrinks; external + arrayBuffers cover it and typed arrays. */
  externalMiB: number;
  load1: number;
}

const MiB = 2 ** 20;

function sample(step: number): SoakSample {
  const m = tf.memory();
  const p = process.memoryUsage();
  return {
    step,
    numTensors: m.numTensors,
    numBytes: m.numBytes,
    rssMiB: round(p.rss / MiB),
    heapUsedMiB: round(p.heapUsed / MiB),
    externalMiB: round((p.external + p.arrayBuffers) / MiB),
    load1: loadAverage()[0],
  };
}

/** Trains `steps` LeNet-5 steps at batch 32 and emits the samples as the 'soak' result. */
export async function runSoak(steps: number, backend: string): Promise<void> {
  const BATCH = 32;
  const PER_EPOCH = 1000;
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-soak-'));
  try {
    const config: TrainConfig = {
      ...defaultConfig('lenet5', 'mnist'),
      optimizer: { kind: 'sgd', lr: 0.01, momentum: 0, weightDecay: 0 },
      preprocess: 'raw',
      batchSize: BATCH,
      epochs: Math.ceil(steps / PER_EPOCH),
      limit: BATCH * Math.min(steps, PER_EPOCH),
      testLimit: 1000,
      backend,
    };
    const prepared = await openTrainData(config, getModelSpec('lenet5'));
    const trainer = await startRun(config, { runsDir, argv: ['bench', '--soak'], data: prepared });
    const samples: SoakSample[] = [];
    const every = Math.max(1, Math.floor(steps / 10));
    const t0 = performance.now();
    trainer.on((event) => {
      if (event.type !== 'batch') return;
      const step = event.record.step;
      if (step === 10 || step % every === 0) {
        samples.push(sample(step));
        emit({ type: 'partial', measure: 'soak', steps: step, seconds: (performance.now() - t0) / 1000, perStep: BATCH, unit: 'images/s' });
      }
      if (step >= steps) trainer.stop();
    });
    const loadBefore = loadAverage();
    await trainer.run();
    const seconds = (performance.now() - t0) / 1000;
    const trained = samples.at(-1)?.step ?? 0;
    trainer.dispose();
    const afterDispose = sample(trained);
    emit({
      type: 'result',
      measure: 'soak',
      figure: {
        value: (trained * BATCH) / seconds,
        unit: 'images/s',
        steps: trained,
        seconds,
        loadBefore,
        loadAfter: loadAverage(),
        detail: { batch: BATCH, samples, afterDispose, note: 'first sample after 10 steps; afterDispose: model and optimizer freed' },
      },
    });
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}
