// The exported trainer against ConvScope's own trainer on the settings the DDP tests leave at their
// defaults: Adam, the Keras-2.2 clipped loss, the plateau schedule, raw pixels and Fashion-MNIST (a tiny
// copy in its IDX format, written here). Same data order and initial weights, both on the CPU.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec, saveModel } from '../../src-main/engine/models';
import { exportPytorch } from '../../src-main/engine/export/pytorch';
import { defaultConfig, defaultOptimizer, startRun, type TrainConfig } from '../../src-main/engine/train';
import { writeFashionMnistFixture } from '../engine/fashion-mnist-fixture';
import { NO_TORCH, python } from './python';

type BatchLine = { step: number; loss: number; lr: number };
const batches = (runDir: string): BatchLine[] =>
  readFileSync(path.join(runDir, 'batch.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as BatchLine);

let scratch: string;
const savedCache = process.env.CONVSCOPE_CACHE_DIR;

describe.skipIf(NO_TORCH !== null)('exported trainer: Adam, keras-clipped loss, plateau schedule, raw pixels, Fashion-MNIST', () => {
  let ours: BatchLine[];
  let theirs: BatchLine[];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    scratch = await mkdtemp(path.join(tmpdir(), 'convscope-export-recipes-'));
    process.env.CONVSCOPE_CACHE_DIR = path.join(scratch, 'cache');
    const fashion = writeFashionMnistFixture(path.join(scratch, 'cache', 'datasets', 'fashion-mnist'), 96, 64);
    const config: TrainConfig = {
      ...defaultConfig('lenet5', 'fashion-mnist'),
      preprocess: 'raw',
      loss: 'keras-clipped',
      optimizer: defaultOptimizer('adam', { lr: 0.001 }),
      // minDelta 1: no epoch ever improves enough, so the rate drops tenfold after epochs 2 and 3.
      schedule: { kind: 'plateau', factor: 10, maxDrops: 3, patience: 1, minDelta: 1 },
      batchSize: 32,
      epochs: 4,
      limit: 96,
      testLimit: 64,
      seed: 11,
      backend: 'cpu',
    };
    const pkg = (await exportPytorch(config, path.join(scratch, 'pkg'))).dir;
    const init = path.join(scratch, 'init');
    const model = buildModel(getModelSpec('lenet5'), { seed: config.seed });
    await saveModel(model, init);
    model.dispose();
    await python([path.join(pkg, 'train.py'), '--run-dir', path.join(scratch, 'pytorch'), '--data-dir', fashion, '--init-from', init]);
    const trainer = await startRun(config, { runDir: path.join(scratch, 'convscope') });
    await trainer.run();
    trainer.dispose();
    [ours, theirs] = [batches(path.join(scratch, 'convscope')), batches(path.join(scratch, 'pytorch'))];
  }, 300_000);

  afterAll(async () => {
    if (savedCache === undefined) delete process.env.CONVSCOPE_CACHE_DIR;
    else process.env.CONVSCOPE_CACHE_DIR = savedCache;
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('drops the learning rate at the same steps', () => {
    expect(theirs.map((b) => b.step)).toEqual(ours.map((b) => b.step));
    expect(theirs.map((b) => b.lr)).toEqual(ours.map((b) => b.lr));
    expect(new Set(ours.map((b) => b.lr)).size).toBe(3); // 1e-3, then two drops
  });

  it('trains the same losses (1e-4 relative)', () => {
    const worst = Math.max(...ours.map((b, i) => Math.abs(b.loss - theirs[i].loss) / Math.max(1, Math.abs(b.loss))));
    console.log(`Adam + keras-clipped + plateau on raw Fashion-MNIST: ${ours.length} steps, max relative |loss diff| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });
});
