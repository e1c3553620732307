import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Augmenter, fitColourPca } from '../../src-main/engine/data/augment';
import { DatasetError } from '../../src-main/engine/data/dataset';
import { interleaveClasses, openFolderDataset, shorterSideFor, stratifiedSplit, type FolderDataset } from '../../src-main/engine/data/folder';

let tmp: string;
let root: string;
let cacheDir: string;

type Colour = { r: number; g: number; b: number };
const RED: Colour = { r: 230, g: 20, b: 20 };
const GREEN: Colour = { r: 20, g: 200, b: 40 };
const BLUE: Colour = { r: 30, g: 40, b: 220 };

const solid = (width: number, height: number, c: Colour) => sharp({ create: { width, height, channels: 3, background: c } });

/** Each file's class and colour, to check what the dataset hands back. */
const made: { rel: string; colour: Colour }[] = [];

async function make(rel: string, colour: Colour, write: (file: string) => Promise<unknown>): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await write(file);
  made.push({ rel, colour });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-folder-'));
  root = path.join(tmp, 'shapes');
  cacheDir = path.join(tmp, 'cache');
  // Three classes, mixed formats, sizes and colour modes; names sort as bird < cat < fish.
  await make('cat/a.jpg', RED, (f) => solid(300, 200, RED).jpeg({ quality: 95 }).toFile(f));
  await make('cat/b.PNG', RED, (f) => solid(64, 90, RED).png({ palette: true }).toFile(f));
  await make('cat/sub/c.webp', RED, (f) => solid(100, 150, RED).webp({ lossless: true }).toFile(f));
  await make('bird/a.gif', GREEN, (f) => solid(80, 80, GREEN).gif().toFile(f));
  await make('bird/b.png', GREEN, (f) => solid(40, 70, GREEN).toColourspace('rgb16').png().toFile(f));
  await make('bird/c.png', GREEN, (f) =>
    sharp({ create: { width: 50, height: 50, channels: 4, background: { ...GREEN, alpha: 1 } } })
      .png()
      .toFile(f),
  );
  await make('fish/a.jpg', BLUE, (f) => solid(50, 40, BLUE).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(f));
  await make('fish/b.jpeg', BLUE, (f) => solid(120, 90, BLUE).jpeg({ quality: 95 }).toFile(f));
  const jpeg = await solid(200, 200, BLUE).jpeg().toBuffer();
  await writeFile(path.join(root, 'fish', 'broken.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  await writeFile(path.join(root, 'fish', 'notes.txt'), 'not an image and not an image name: ignored');
  await writeFile(path.join(root, 'fish', '.hidden.png'), 'hidden: ignored');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function centre(ds: FolderDataset, images: Uint8Array, i: number): number[] {
  const [h, w, c] = ds.shape;
  const at = i * h * w * c + ((h >> 1) * w + (w >> 1)) * c;
  return Array.from(images.subarray(at, at + c));
}

describe('shorterSideFor', () => {
  it('gives the paper 256 for 224-227 and scales 256/224 otherwise', () => {
    expect([224, 227, 28, 32, 64, 112].map(shorterSideFor)).toEqual([256, 256, 32, 37, 73, 128]);
    expect(() => shorterSideFor(0)).toThrow(DatasetError);
  });
});

describe('openFolderDataset', () => {
  let first: FolderDataset;
  const warned: string[] = [];

  it('opens three classes in mixed formats, skipping the corrupt file by name', async () => {
    const progress: number[] = [];
    first = await openFolderDataset(root, { inputSize: 28, cacheDir, onWarning: (m) => warned.push(m), onProgress: (d) => progress.push(d) });
    expect(first.id).toBe(`folder:${root}`);
    expect(first.title).toBe('shapes');
    expect(first.layout).toBe('classes');
    expect(first.classNames).toEqual(['bird', 'cat', 'fish']);
    expect(first.storedSize).toBe(32);
    expect(first.shape).toEqual([32, 32, 3]);
    expect(first.train.count).toBe(8);
    expect(first.test).toBeNull();
    expect(first.skipped.map((s) => path.basename(s.file))).toEqual(['broken.jpg']);
    expect(first.skipped[0].reason).toMatch(/corrupt or truncated/);
    expect(first.warnings).toEqual(warned);
    expect(warned.some((w) => w.includes(path.join('fish', 'broken.jpg')))).toBe(true);
    expect(progress.length).toBe(9);
    expect(first.cacheStats).toEqual({ hits: 0, decoded: 8 });
    // classes interleaved in proportion to their sizes (3, 3, 2), not one class after another
    expect(Array.from(first.train.labels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
  });

  it('reads batches of the right shape, labels and colours', async () => {
    const order = [7, 0, 3, 5, 3];
    const batch = await first.train.read(order);
    expect(batch.count).toBe(5);
    expect(batch.images.length).toBe(5 * 32 * 32 * 3);
    expect(Array.from(batch.labels)).toEqual(order.map((i) => first.train.labels[i]));
    order.forEach((k, i) => {
      const rel = path.relative(root, first.train.files[k]);
      const { colour } = made.find((m) => m.rel === rel)!;
      const px = centre(first, batch.images, i);
      [colour.r, colour.g, colour.b].forEach((v, ch) => expect(Math.abs(px[ch] - v), `${rel} channel ${ch}`).toBeLessThanOrEqual(12));
    });
    await expect(first.train.read([8])).rejects.toThrow(/outside \[0, 8\)/);
  });

  it('a second open takes every image from the cache; a changed file is decoded again', async () => {
    const all = Array.from({ length: 8 }, (_, i) => i);
    const before = await first.train.read(all);
    const second = await openFolderDataset(root, { inputSize: 28, cacheDir });
    expect(second.cacheStats).toEqual({ hits: 8, decoded: 0 });
    expect(second.skipped.map((s) => path.basename(s.file))).toEqual(['broken.jpg']);
    expect(Buffer.from((await second.train.read(all)).images).equals(Buffer.from(before.images))).toBe(true);

    const later = new Date(Date.now() + 5000);
    await utimes(path.join(root, 'cat', 'a.jpg'), later, later);
    const third = await openFolderDataset(root, { inputSize: 28, cacheDir });
    expect(third.cacheStats).toEqual({ hits: 7, decoded: 1 });
    // Another stored size is another cache entry.
    const bigger = await openFolderDataset(root, { inputSize: 56, cacheDir });
    expect(bigger.shape).toEqual([64, 64, 3]);
    expect(bigger.cacheStats.decoded).toBe(8);
  });

  it('a cache hit does not decode: garbage of the same size and mtime still reads as the cached image', async () => {
    const file = path.join(root, 'fish', 'b.jpeg');
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await utimes(file, when, when);
    expect((await openFolderDataset(root, { inputSize: 28, cacheDir })).cacheStats.decoded).toBe(1);
    const length = (await readFile(file)).length;
    await writeFile(file, Buffer.alloc(length, 0x5a));
    await utimes(file, when, when);
    const ds = await openFolderDataset(root, { inputSize: 28, cacheDir });
    expect(ds.cacheStats).toEqual({ hits: 8, decoded: 0 });
    const k = ds.train.files.indexOf(file);
    const px = centre(ds, (await ds.train.read([k])).images, 0);
    [BLUE.r, BLUE.g, BLUE.b].forEach((v, ch) => expect(Math.abs(px[ch] - v)).toBeLessThanOrEqual(12));
    await solid(120, 90, BLUE).jpeg({ quality: 95 }).toFile(file);
  });

  it('keeps within a small cache budget and still reads every image', async () => {
    const smallCache = path.join(tmp, 'small-cache');
    const perImage = 32 * 32;
    const ds = await openFolderDataset(root, { inputSize: 28, channels: 1, cacheDir: smallCache, cacheBudgetBytes: 3 * perImage });
    expect(ds.shape).toEqual([32, 32, 1]);
    const batch = await ds.train.read([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(batch.images.length).toBe(8 * perImage);
    // Green (bird, example 0) is brighter than blue (fish, example 2) in grey.
    expect(centre(ds, batch.images, 0)[0]).toBeGreaterThan(centre(ds, batch.images, 2)[0] + 50);
    const reopened = await openFolderDataset(root, { inputSize: 28, channels: 1, cacheDir: smallCache, cacheBudgetBytes: 3 * perImage });
    expect(reopened.cacheStats.hits).toBeLessThanOrEqual(3);
    const stored = (await readdir(smallCache, { recursive: true })).filter((f) => f.endsWith('.u8'));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThanOrEqual(3);
  });

  it('PCA of the training pixels: orthonormal eigenvectors that rebuild the covariance', async () => {
    const pca = await fitColourPca(first.train);
    const { images, count } = await first.train.read(Array.from({ length: first.train.count }, (_, i) => i));
    const n = images.length / 3;
    const mean = [0, 1, 2].map((k) => {
      let s = 0;
      for (let p = 0; p < n; p++) s += images[p * 3 + k] / 255;
      return s / n;
    });
    expect(count).toBe(8);
    const cov = [0, 1, 2].map((a) =>
      [0, 1, 2].map((b) => {
        let s = 0;
        for (let p = 0; p < n; p++) s += (images[p * 3 + a] / 255 - mean[a]) * (images[p * 3 + b] / 255 - mean[b]);
        return s / n;
      }),
    );
    const { eigenvalues: l, eigenvectors: v } = pca;
    expect(l[0]).toBeGreaterThan(0.01);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const d = v[i][0] * v[j][0] + v[i][1] * v[j][1] + v[i][2] * v[j][2];
        expect(Math.abs(d - (i === j ? 1 : 0))).toBeLessThan(1e-10);
        const rebuilt = l[0] * v[0][i] * v[0][j] + l[1] * v[1][i] * v[1][j] + l[2] * v[2][i] * v[2][j];
        expect(Math.abs(rebuilt - cov[i][j])).toBeLessThan(1e-9);
      }
    }
    // The augmented batch for the model: random 28x28 crops of the 32x32 stored images.
    const aug = new Augmenter({ size: 28, random: true, mirror: true, pca, pcaStd: 0.1 }, 1);
    const x = aug.applyBatch(await first.train.read([0, 1]), first.shape);
    expect(x.length).toBe(2 * 28 * 28 * 3);
  });
});

describe('folder layouts and splits', () => {
  let splitRoot: string;
  beforeAll(async () => {
    splitRoot = path.join(tmp, 'split');
    const tiny = (c: Colour) => solid(8, 8, c).png().toBuffer();
    const write = async (rel: string, data: Buffer) => {
      await mkdir(path.dirname(path.join(splitRoot, rel)), { recursive: true });
      await writeFile(path.join(splitRoot, rel), data);
    };
    const colours = [RED, GREEN, BLUE];
    for (const [k, name] of ['a', 'b', 'c'].entries()) {
      for (let i = 0; i < 10; i++) await write(`pool/${name}/${i}.png`, await tiny(colours[k]));
      await write(`tt/train/${name}/x.png`, await tiny(colours[k]));
      await write(`tt/val/${name}/y.png`, await tiny(colours[k]));
    }
    await write('tt/val/zebra/z.png', await tiny(RED));
    await write('tt/train/stray.png', await tiny(RED));
    await write('tt/train/d/words.png', Buffer.from('a text file with an image name'));
  });

  it('train/ + val/ folders give the test split; unknown val classes are reported', async () => {
    const ds = await openFolderDataset(path.join(splitRoot, 'tt'), { inputSize: 8, cacheDir });
    expect(ds.layout).toBe('train-test');
    expect(ds.classNames).toEqual(['a', 'b', 'c', 'd']);
    expect([ds.train.count, ds.test?.count]).toEqual([3, 3]);
    expect(ds.skipped).toEqual([{ file: path.join(splitRoot, 'tt', 'train', 'd', 'words.png'), reason: 'not a recognised image format' }]);
    expect(ds.warnings).toContain('class "d" has no readable training images');
    expect(Array.from(ds.test!.labels)).toEqual([0, 1, 2]);
    expect(ds.warnings.some((w) => w.includes('"zebra" is not among the training classes'))).toBe(true);
    expect(ds.warnings.some((w) => w.includes('1 image(s) directly in'))).toBe(true);
  });

  it('testFraction holds out a seeded, stratified share of each class', async () => {
    const ds = await openFolderDataset(path.join(splitRoot, 'pool'), { inputSize: 8, cacheDir, testFraction: 0.2, splitSeed: 3 });
    expect([ds.train.count, ds.test!.count]).toEqual([24, 6]);
    expect(Array.from(ds.test!.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    const again = await openFolderDataset(path.join(splitRoot, 'pool'), { inputSize: 8, cacheDir, testFraction: 0.2, splitSeed: 3 });
    expect(again.test!.files).toEqual(ds.test!.files);
    expect(new Set([...ds.train.files, ...ds.test!.files]).size).toBe(30);
    const all = await openFolderDataset(path.join(splitRoot, 'pool'), { inputSize: 8, cacheDir });
    const other = stratifiedSplit(all.train, { fraction: 0.2, seed: 4 });
    expect(other.validation.files).not.toEqual(ds.test!.files);
    // Reading through the split maps to the right underlying examples.
    const read = await ds.test!.read([5, 0, 4]);
    expect(Array.from(read.labels)).toEqual([2, 0, 1]);
    expect(() => stratifiedSplit(all.train, { fraction: 0.01 })).toThrow(/leaves 0 held out/);
  });

  it('the first N examples are a representative sample: classes interleaved, the same in every open and for every seed', async () => {
    const pool = path.join(splitRoot, 'pool');
    const ds = await openFolderDataset(pool, { inputSize: 8, cacheDir });
    expect(Array.from(ds.train.labels.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    // within a class the files keep their sorted order
    expect(ds.train.files.slice(0, 6).map((f) => path.relative(pool, f))).toEqual(['a/0.png', 'b/0.png', 'c/0.png', 'a/1.png', 'b/1.png', 'c/1.png']);
    const again = await openFolderDataset(pool, { inputSize: 8, cacheDir });
    expect(again.train.files).toEqual(ds.train.files);
    // The holdout seed picks other held-out files, but the training examples stay in interleaved order.
    for (const splitSeed of [1, 2]) {
      const held = await openFolderDataset(pool, { inputSize: 8, cacheDir, testFraction: 0.2, splitSeed });
      expect(Array.from(held.train.labels.subarray(0, 9))).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
      for (const label of [0, 1, 2]) {
        const positions = held.train.files.filter((_, i) => held.train.labels[i] === label).map((f) => ds.train.files.indexOf(f));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
      }
    }
  });

  it('interleaveClasses keeps class proportions in every prefix', () => {
    // 6 of class 0, 3 of class 1, 1 of class 2, listed class by class
    const entries = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2].map((label, i) => ({ label, i }));
    const out = interleaveClasses(entries);
    expect(out.map((e) => e.label)).toEqual([0, 1, 0, 0, 1, 2, 0, 0, 1, 0]);
    // a permutation that keeps each class's order
    expect(out.map((e) => e.i).sort((a, b) => a - b)).toEqual(entries.map((e) => e.i));
    for (const label of [0, 1, 2]) {
      const within = out.filter((e) => e.label === label).map((e) => e.i);
      expect(within).toEqual([...within].sort((a, b) => a - b));
    }
    // every prefix holds each class within one example of its share
    for (let n = 1; n <= 10; n++) {
      [0.6, 0.3, 0.1].forEach((share, label) => expect(Math.abs(out.slice(0, n).filter((e) => e.label === label).length - share * n)).toBeLessThanOrEqual(1));
    }
    expect(interleaveClasses([])).toEqual([]);
  });

  it('a missing folder or one without class folders is a DatasetError', async () => {
    await expect(openFolderDataset(path.join(tmp, 'nope'), { inputSize: 8, cacheDir })).rejects.toThrow(/does not exist/);
    await mkdir(path.join(tmp, 'flat'), { recursive: true });
    await writeFile(path.join(tmp, 'flat', 'x.png'), await solid(8, 8, RED).png().toBuffer());
    await expect(openFolderDataset(path.join(tmp, 'flat'), { inputSize: 8, cacheDir })).rejects.toThrow(/no class subfolders/);
    await expect(openFolderDataset(root, { inputSize: 28, storedSize: 20, cacheDir })).rejects.toThrow(/stored size 20/);
  });
});
