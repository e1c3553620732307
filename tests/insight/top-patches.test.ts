import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { resolveModel, inspectTensor, type ResolvedModel } from '../../src-main/engine/inspect';
import { openModelSplit, type ModelSplit } from '../../src-main/engine/handlers/insight-data';
import { InsightCache } from '../../src-main/engine/insight/cache';
import { cachedTopPatches, patchPixels, topPatches } from '../../src-main/engine/insight/top-patches';
import { resourcesDir } from '../../src-main/engine/paths';

let m: ResolvedModel;
let data: ModelSplit;
let cacheDir: string;

beforeAll(async () => {
  m = await resolveModel(path.join(resourcesDir(), 'pretrained', 'lenet5-mnist'));
  data = await openModelSplit(m, undefined, 'test');
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'insight-'));
});
afterAll(async () => {
  m.model.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('top patches', () => {
  it('records activations a fresh inspection of the example reproduces, best first, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const result = await topPatches(m.model, 'conv2', data.served, { k: 4, limit: 96, batchSize: 40 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.channels).toBe(16);
    expect(result.examples).toBe(96);
    for (const ps of result.patches) {
      expect(ps).toHaveLength(4);
      expect(new Set(ps.map((p) => p.index)).size).toBe(4);
      for (let i = 1; i < ps.length; i++) expect(ps[i - 1].value).toBeGreaterThanOrEqual(ps[i].value);
    }
    for (const c of [0, 7, 15]) {
      const patch = result.patches[c][1];
      const read = await data.stored.read([patch.index]);
      const png = await sharp(Buffer.from(read.images), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
      const prepared = await m.prepare.prepare(png);
      const { layers } = await inspectTensor(m, prepared.x);
      prepared.x.dispose();
      const conv2 = layers.find((l) => l.name === 'conv2')!;
      const [, w, channels] = conv2.shape;
      expect(Math.abs(conv2.values[(patch.row * w + patch.col) * channels + c] - patch.value)).toBeLessThan(1e-5);
      // It is that example's strongest unit in the channel.
      let best = -Infinity;
      for (let p = 0; p < conv2.values.length / channels; p++) best = Math.max(best, conv2.values[p * channels + c]);
      expect(best).toBeCloseTo(patch.value, 5);
      expect(read.labels[0]).toBe(patch.label);
    }
    const pixels = await patchPixels(result, data.stored);
    const p = result.patches[3][0];
    expect(pixels[3][0]).toMatchObject({ width: p.window.width, height: p.window.height, channels: 1 });
  });

  it('caches by weights: a second pass is read back, a changed model is computed again', async () => {
    const cache = new InsightCache(cacheDir);
    const where = { cache, dataset: data.dataset, split: 'test', preprocess: m.preprocessor };
    const first = await cachedTopPatches(m.model, 'pool1', data.served, where, { k: 2, limit: 20 });
    const second = await cachedTopPatches(m.model, 'pool1', data.served, where, { k: 2, limit: 20 });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.patches).toEqual(first.patches);
    const other = await resolveModel('lenet5');
    try {
      expect((await cachedTopPatches(other.model, 'pool1', data.served, where, { k: 2, limit: 20 })).cached).toBe(false);
    } finally {
      other.model.dispose();
    }
  });

  it('stops between batches when cancelled, leaking no tensors and caching nothing', async () => {
    const cache = new InsightCache(cacheDir);
    const where = { cache, dataset: data.dataset, split: 'test', preprocess: m.preprocessor };
    const stop = new AbortController();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    const options = { k: 2, limit: 200, batchSize: 50, signal: stop.signal, onProgress: (done: number) => (seen.push(done), stop.abort(new Error('closed'))) };
    await expect(cachedTopPatches(m.model, 'conv1', data.served, where, options)).rejects.toThrow('closed');
    expect(seen).toEqual([50]);
    expect(tf.memory().numTensors).toBe(before);
    expect((await cachedTopPatches(m.model, 'conv1', data.served, where, { k: 2, limit: 200, batchSize: 50 })).cached).toBe(false);
  });

  it('refuses a dense layer with the layers it can use', async () => {
    await expect(topPatches(m.model, 'fc2', data.served)).rejects.toThrow(/conv or pooling layer.*conv1, pool1, conv2, pool2/);
  });
});
