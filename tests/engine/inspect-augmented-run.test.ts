// Inspecting a run trained with augmentation (folder images stored larger than the input): an image file
// becomes exactly the centre crop that the run's evaluation served for it, not a resized whole image.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { getModelSpec } from '../../src-main/engine/models';
import { openFolderDataset } from '../../src-main/engine/data/folder';
import { defaultConfig, startRun } from '../../src-main/engine/train';
import { openTrainData, VALIDATION_FRACTION } from '../../src-main/engine/train/open-data';
import { resolveModel } from '../../src-main/engine/inspect';
import { makeNoiseFolder } from './train-augment-folder';

let parent: string;
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  parent = await mkdtemp(path.join(tmpdir(), 'convscope-inspect-aug-'));
  process.env.XDG_CACHE_HOME = path.join(parent, 'cache');
  root = path.join(parent, 'images');
  await makeNoiseFolder(root, 6);
});

describe('inspecting an augmented folder run', () => {
  it('prepares an image file as the centre crop its evaluation used', { timeout: 60_000 }, async () => {
    const config = {
      ...defaultConfig('lenet5', `folder:${root}`),
      model: { id: 'lenet5', overrides: { input: '16x16x3' } },
      preprocess: 'mean-image',
      augment: 'crop-mirror' as const,
      backend: 'cpu',
      batchSize: 6,
      statsEvery: 0,
      snapshotEvery: 0,
      probeSize: 2,
    };
    const runDir = path.join(parent, 'run');
    const trainer = await startRun(config, { runDir });
    await trainer.run();
    trainer.dispose();

    const spec = getModelSpec('lenet5', { input: '16x16x3', classes: 3 });
    const served = await openTrainData(config, spec);
    const test = served.data.test!;
    const listed = await openFolderDataset(root, { inputSize: 16, storedSize: 18, channels: 3, testFraction: VALIDATION_FRACTION, splitSeed: config.seed });
    expect(listed.test!.count).toBe(test.size);

    const resolved = await resolveModel(runDir);
    try {
      for (let i = 0; i < test.size; i++) {
        const batch = await test.batch([i], 'eval');
        const prepared = await resolved.prepare.prepare(listed.test!.files[i]);
        expect(prepared.x.shape).toEqual([1, 16, 16, 3]);
        const [want, got] = [await batch.x.data(), await prepared.x.data()];
        expect(Math.max(...Array.from(got, (v, k) => Math.abs(v - want[k])))).toBeLessThan(1e-5);
        tf.dispose([batch.x, batch.labels, prepared.x]);
      }
    } finally {
      resolved.model.dispose();
    }
  });
});
