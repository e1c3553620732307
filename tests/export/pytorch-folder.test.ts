// The exported trainer on an image folder: the same split, example order and fitted preprocessing as
// ConvScope's (ported, not shared code), so `convscope eval` reproduces the accuracy the run reported, with and
// without the paper's augmentation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { getModelSpec } from '../../src-main/engine/models';
import { exportPytorch } from '../../src-main/engine/export/pytorch';
import { defaultConfig, defaultOptimizer, type TrainConfig } from '../../src-main/engine/train';
import { openTrainData, type DatasetRecord } from '../../src-main/engine/train/open-data';
import { createRandom } from '../../src-main/engine/train/rng';
import { resolveModel } from '../../src-main/engine/inspect';
import { readKernelSnapshot, type KernelIndex } from '../../src-main/engine/train/kernel-snapshots';
import { runCli } from '../cli/run-cli';
import { NO_TORCH, python } from './python';

let scratch: string;
let root: string;
const SIZES = { a: 14, b: 10, c: 7 }; // unequal classes: the interleaving and the stratified holdout matter

/** side x side noisy RGB PNGs, a base colour per class (stored at their own size: no resampling on either side). */
async function makeFolder(dir: string, side: number): Promise<void> {
  const rng = createRandom(7);
  const colours = [[200, 60, 50], [50, 180, 70], [60, 70, 200]];
  for (const [k, [name, count]] of Object.entries(SIZES).entries()) {
    await mkdir(path.join(dir, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      const data = Buffer.alloc(side * side * 3);
      for (let p = 0; p < data.length; p++) data[p] = Math.max(0, Math.min(255, colours[k][p % 3] + rng.nextInt(121) - 60));
      await sharp(data, { raw: { width: side, height: side, channels: 3 } }).png().toFile(path.join(dir, name, `img-${i}.png`));
    }
  }
}

async function trainAndEval(name: string, config: TrainConfig): Promise<{ runDir: string; reported: number; evaluated: number }> {
  const pkg = (await exportPytorch(config, path.join(scratch, `${name}-pkg`))).dir;
  const runDir = path.join(scratch, `${name}-run`);
  await python([path.join(pkg, 'train.py'), '--run-dir', runDir]);
  const epochs = readFileSync(path.join(runDir, 'epochs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { testAccuracy: number });
  const r = await runCli(['eval', '--model', runDir, '--backend', 'cpu', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { runDir, reported: epochs.at(-1)!.testAccuracy, evaluated: (JSON.parse(r.stdout) as { accuracy: number }).accuracy };
}

describe.skipIf(NO_TORCH !== null)('exported trainer on an image folder', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    scratch = await mkdtemp(path.join(tmpdir(), 'convscope-export-folder-'));
    root = path.join(scratch, 'images');
    await makeFolder(root, 24);
  }, 120_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const base = (): TrainConfig => ({
    ...defaultConfig('lenet5', `folder:${root}`),
    model: { id: 'lenet5', overrides: { input: '24x24x3', classes: 3 } },
    batchSize: 4,
    epochs: 2,
    optimizer: defaultOptimizer('sgd', { lr: 0.05 }),
    seed: 5,
    backend: 'cpu',
  });

  it('holds out, orders and preprocesses as ConvScope does; convscope eval gives the reported accuracy', { timeout: 180_000 }, async () => {
    const config = { ...base(), preprocess: 'mean-image' };
    const { runDir, reported, evaluated } = await trainAndEval('plain', config);
    const ours = await openTrainData(config, getModelSpec('lenet5', config.model.overrides));
    const theirs = JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8')) as DatasetRecord;
    expect(theirs).toMatchObject({ classNames: ['a', 'b', 'c'], heldOut: 'validation', trainExamples: ours.dataset!.trainExamples, heldOutExamples: ours.dataset!.heldOutExamples });
    // The mean image is fitted on the training split: the same images, so the same mean.
    const mean = (p: unknown) => (p as { mean: number[] }).mean;
    const fitted = mean(JSON.parse(readFileSync(path.join(runDir, 'preprocess.json'), 'utf8')));
    expect(fitted).toHaveLength(24 * 24 * 3);
    expect(Math.max(...fitted.map((m, i) => Math.abs(m - mean(ours.preprocess)[i])))).toBeLessThan(1e-9);
    expect(evaluated).toBe(reported);

    // Step 0 is this trainer's initialisation (stored in initial/), not the one ConvScope would rebuild from the seed.
    const initial = await resolveModel(runDir, { checkpoint: 0 });
    const snapshots = JSON.parse(readFileSync(path.join(runDir, 'kernels', 'index.json'), 'utf8')) as KernelIndex;
    expect(snapshots.snapshots[0].step).toBe(0);
    const conv1AtStart = readKernelSnapshot(runDir, snapshots.snapshots[0], snapshots)[0].values;
    expect(Array.from(await initial.model.getLayer('conv1').getWeights()[0].data())).toEqual(Array.from(conv1AtStart));
    initial.model.dispose();
  });

  it("with the paper's augmentation (random crops, mirrors, PCA colour jitter) too", { timeout: 180_000 }, async () => {
    const config: TrainConfig = { ...base(), model: { id: 'lenet5', overrides: { input: '20x20x3', classes: 3 } }, augment: 'paper', storedSize: 24, preprocess: 'mean-pixel' };
    const { runDir, reported, evaluated } = await trainAndEval('paper', config);
    expect(JSON.parse(readFileSync(path.join(runDir, 'dataset.json'), 'utf8'))).toMatchObject({ storedSize: 24 });
    expect(evaluated).toBe(reported); // evaluation takes the centre crop on both sides
  });
});
