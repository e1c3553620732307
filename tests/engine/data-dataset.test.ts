import { describe, expect, it } from 'vitest';
import { forEachChunk, inMemorySplit, limit, splitValidation, subsetSplit, type Dataset } from '../../src-main/engine/data/dataset';

/** n 2x2x1 images whose pixels all equal the example's index (mod 256), label = index mod 3. */
function numbered(n: number) {
  const images = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i % 256, i * 4, (i + 1) * 4);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return inMemorySplit(images, labels, [2, 2, 1]);
}

const idOf = (images: Uint8Array, k: number) => images[k * 4];

describe('inMemorySplit', () => {
  it('reads examples in the order asked, repeats included', async () => {
    const split = numbered(10);
    const ex = await split.read([7, 2, 7]);
    expect(ex.count).toBe(3);
    expect(Array.from(ex.images)).toEqual([7, 7, 7, 7, 2, 2, 2, 2, 7, 7, 7, 7]);
    expect(Array.from(ex.labels)).toEqual([1, 2, 1]);
  });

  it('copies: changing a batch leaves the split alone', async () => {
    const split = numbered(3);
    (await split.read([1])).images.fill(99);
    expect(idOf((await split.read([1])).images, 0)).toBe(1);
  });

  it('rejects bad indices and inconsistent arrays', async () => {
    const split = numbered(4);
    await expect(split.read([4])).rejects.toThrow('example index 4 is outside [0, 4)');
    await expect(split.read([1.5])).rejects.toMatchObject({ code: 'bad-index' });
    expect(() => inMemorySplit(new Uint8Array(7), new Int32Array(2), [2, 2, 1])).toThrow('in-memory split: 7 image bytes for 2 labels of 2x2x1 (expected 8)');
  });
});

describe('subsetSplit and limit', () => {
  it('maps sub-indices through the subset', async () => {
    const sub = subsetSplit(numbered(10), [9, 4, 5]);
    expect(sub.count).toBe(3);
    const ex = await sub.read([2, 0]);
    expect([idOf(ex.images, 0), idOf(ex.images, 1)]).toEqual([5, 9]);
    await expect(sub.read([3])).rejects.toThrow('example index 3 is outside [0, 3)');
    expect(() => subsetSplit(numbered(3), [3])).toThrow('outside [0, 3)');
  });

  it('limit keeps the first n training (and test) examples', async () => {
    const dataset: Dataset = { id: 't', title: 'T', classNames: ['a', 'b', 'c'], shape: [2, 2, 1], train: numbered(10), test: numbered(6), source: 'memory', warnings: [] };
    const small = limit(dataset, 4);
    expect(small.train.count).toBe(4);
    expect(small.test).toBe(dataset.test);
    expect(idOf((await small.train.read([3])).images, 0)).toBe(3);
    expect(limit(dataset, 100).train).toBe(dataset.train);
    expect(limit(dataset, null, 2).test?.count).toBe(2);
    expect(() => limit(dataset, 0)).toThrow('training limit must be a whole number >= 1, got 0');
    expect(limit({ ...dataset, test: null }, 2, 2).test).toBeNull();
  });
});

describe('splitValidation', () => {
  it('holds out round(fraction * n), disjoint, covering everything, each part in order', async () => {
    const split = numbered(100);
    const { train, validation } = splitValidation(split, { fraction: 0.2, seed: 1 });
    expect([train.count, validation.count]).toEqual([80, 20]);
    const ids = async (s: typeof split) => Array.from({ length: s.count }, (_, k) => k).map(async (k) => idOf((await s.read([k])).images, 0));
    const t = await Promise.all(await ids(train));
    const v = await Promise.all(await ids(validation));
    expect(new Set([...t, ...v]).size).toBe(100);
    expect(t).toEqual([...t].sort((a, b) => a - b));
    expect(v).toEqual([...v].sort((a, b) => a - b));
    // a shuffle, not the last 20 (folders list examples class by class)
    expect(v).not.toEqual(Array.from({ length: 20 }, (_, i) => 80 + i));
  });

  it('is reproducible for a seed and differs between seeds', async () => {
    const split = numbered(50);
    const first = async (seed: number) => Array.from((await splitValidation(split, { fraction: 0.1, seed }).validation.read([0, 1, 2, 3, 4])).images.filter((_, i) => i % 4 === 0));
    expect(await first(3)).toEqual(await first(3));
    expect(await first(3)).not.toEqual(await first(4));
  });

  it('refuses fractions that leave nothing on one side', () => {
    expect(() => splitValidation(numbered(10), { fraction: 1 })).toThrow('validation fraction must be between 0 and 1 (exclusive), got 1');
    expect(() => splitValidation(numbered(10), { fraction: 0.01 })).toThrow('a validation fraction of 0.01 of 10 examples leaves 0 held out and 10 to train on');
  });
});

describe('forEachChunk', () => {
  it('visits every example once, in chunks', async () => {
    const seen: number[] = [];
    const starts: number[] = [];
    await forEachChunk(
      numbered(10),
      (chunk, start) => {
        starts.push(start);
        for (let k = 0; k < chunk.count; k++) seen.push(idOf(chunk.images, k));
      },
      4,
    );
    expect(starts).toEqual([0, 4, 8]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
