// What the app opens on: the bundled pretrained LeNet-5 run and sample images (resources/), for real:
// the run loads, and each MNIST sample is classified as the digit its file name says.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { appDefaults } from '../../src-main/engine/handlers/system';
import { inspectImage, resolveModel } from '../../src-main/engine/inspect';
import { resourcesDir } from '../../src-main/engine/paths';
import { readRun } from '../../src-main/engine/train';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('app defaults', () => {
  it('name the bundled run and samples, MNIST’s first test image (a 7) first', () => {
    const d = appDefaults(resourcesDir());
    expect(d.run).toBe(path.join(resourcesDir(), 'pretrained', 'lenet5-mnist'));
    expect(d.samples[0].name).toBe('mnist-7-test0.png');
    expect(d.samples.filter((s) => s.name.startsWith('mnist-'))).toHaveLength(10);
    expect(appDefaults(mkdtempSync(path.join(tmpdir(), 'convscope-no-resources-')))).toEqual({ run: null, samples: [] });
  });

  it('the pretrained run reached its recorded accuracy and reads every MNIST sample right', { timeout: 60_000 }, async () => {
    const d = appDefaults(resourcesDir());
    const run = await readRun(d.run!);
    expect(run.status?.state).toBe('finished');
    expect(run.epochs.at(-1)?.testAccuracy).toBeGreaterThanOrEqual(0.98);
    const resolved = await resolveModel(d.run!);
    try {
      for (const s of d.samples.filter((x) => x.name.startsWith('mnist-'))) {
        const digit = /^mnist-(\d)-/.exec(s.name)![1];
        const inspection = await inspectImage(resolved, s.path);
        expect(inspection.predictions[0].label, s.name).toBe(digit);
      }
    } finally {
      resolved.model.dispose();
    }
  });
});
