// Training-time augmentation of folder datasets (config.augment): random crops of the stored images with
// mirrors, the paper's PCA colour jitter, centre crops for evaluation, mean-image preprocessing at the crop's
// place, reproducibility by seed, no tensor leaks, and a short augmented training run on cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { getModelSpec } from '../../src-main/engine/models';
import { cropInto, fitColourPca, type CropPlace, type PixelImage } from '../../src-main/engine/data/augment';
import { openFolderDataset, type FolderDataset } from '../../src-main/engine/data/folder';
import { defaultConfig, readRun, startRun, validateConfig, TrainConfigError, type TrainConfig } from '../../src-main/engine/train';
import { withConfigDefaults } from '../../src-main/engine/train/config';
import { readCheckpointFile } from '../../src-main/engine/train/checkpoint-file';
import { openTrainData } from '../../src-main/engine/train/open-data';
import type { CheckpointMeta } from '../../src-main/engine/train/trainer';
import type { BatchMode, TrainSplit } from '../../src-main/engine/train/train-data';
import { makeNoiseFolder } from './train-augment-folder';

const INPUT = 16;
/** shorterSideFor(16) = round(16 * 256 / 224) */
const STORED = 18;
const PATCH = INPUT * INPUT * 3;
const spec = getModelSpec('lenet5', { input: `${INPUT}x${INPUT}x3` });

let parent: string;
let root: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  parent = await mkdtemp(path.join(tmpdir(), 'convscope-augment-'));
  process.env.XDG_CACHE_HOME = path.join(parent, 'cache');
  root = path.join(parent, 'images');
  await makeNoiseFolder(root, 10);
});

const config = (o: Partial<TrainConfig> = {}): TrainConfig => ({ ...defaultConfig('lenet5', `folder:${root}`), preprocess: 'raw', augment: 'crop-mirror', seed: 4, ...o });

/** The stored S x S images as openTrainData opened them (same holdout seed), for comparing patches with. */
async function storedImages(seed: number): Promise<FolderDataset> {
  return openFolderDataset(root, { inputSize: INPUT, storedSize: STORED, channels: 3, testFraction: 0.1, splitSeed: seed });
}

async function stored(ds: FolderDataset, i: number): Promise<PixelImage> {
  return { data: (await ds.train.read([i])).images, width: STORED, height: STORED, channels: 3 };
}

async function values(split: TrainSplit, indices: number[], mode?: BatchMode): Promise<Float32Array> {
  const batch = await split.batch(indices, mode);
  expect(batch.x.shape).toEqual([indices.length, INPUT, INPUT, 3]);
  const v = (await batch.x.data()) as Float32Array;
  tf.dispose([batch.x, batch.labels]);
  return v;
}

const PLACES: CropPlace[] = [0, 1, 2].flatMap((top) => [0, 1, 2].flatMap((left) => [false, true].map((mirror) => ({ top, left, mirror }))));

/**
 * The crop place for which patch = (crop(image) + a per-channel shift - crop(mean)) * scale, and that shift
 * (0-255 units); null when there is none.
 */
function findPlace(image: PixelImage, patch: Float32Array, o: { scale?: number; mean?: PixelImage; shifted?: boolean } = {}): { place: CropPlace; shift: number[] } | null {
  const scale = o.scale ?? 1;
  const crop = new Float32Array(PATCH);
  const mean = new Float32Array(PATCH);
  for (const place of PLACES) {
    cropInto(image, INPUT, place, crop);
    if (o.mean) cropInto(o.mean, INPUT, place, mean);
    const base = (j: number) => crop[j] - mean[j];
    const shift = [0, 1, 2].map((k) => (o.shifted ? patch[k] / scale - base(k) : 0));
    if (patch.every((v, j) => Math.abs(v - (base(j) + shift[j % 3]) * scale) <= 1e-3 * Math.max(1, Math.abs(v)))) return { place, shift };
  }
  return null;
}

async function placesOf(ds: FolderDataset, indices: number[], patches: Float32Array, shifted = false) {
  const out: { place: CropPlace; shift: number[] }[] = [];
  for (const [n, i] of indices.entries()) {
    const found = findPlace(await stored(ds, i), patches.subarray(n * PATCH, (n + 1) * PATCH), { shifted });
    expect(found, `patch ${n} (example ${i}) is a crop of its stored image`).not.toBeNull();
    out.push(found!);
  }
  return out;
}

describe('augmented folder data', () => {
  const indices = [0, 1, 2, 3, 4, 5];

  it('training patches are random crops and mirrors of the stored images: new ones each epoch, the same for the same seed', async () => {
    const ds = await storedImages(4);
    const a = await openTrainData(config(), spec);
    expect(a.dataset?.storedSize).toBe(STORED);
    expect(a.data.augment).toBeDefined();
    const epoch1 = await values(a.data.train, indices, 'train');
    const epoch2 = await values(a.data.train, indices, 'train');
    const places1 = (await placesOf(ds, indices, epoch1)).map((p) => p.place);
    const places2 = (await placesOf(ds, indices, epoch2)).map((p) => p.place);
    expect(places2).not.toEqual(places1);

    // A second opening with the same seed repeats both epochs exactly.
    const b = await openTrainData(config(), spec);
    expect(await values(b.data.train, indices, 'train')).toEqual(epoch1);
    expect(await values(b.data.train, indices, 'train')).toEqual(epoch2);

    // Another seed draws other places.
    const other = await openTrainData(config({ seed: 5 }), spec);
    const otherPlaces = (await placesOf(await storedImages(5), indices, await values(other.data.train, indices, 'train'))).map((p) => p.place);
    expect(otherPlaces).not.toEqual(places1);

    // Over a few more epochs every offset of the 3 x 3 margin appears, mirrored and not.
    const seen = new Set([...places1, ...places2].map((p) => JSON.stringify(p)));
    for (let e = 0; e < 30; e++) for (const p of await placesOf(ds, indices, await values(a.data.train, indices, 'train'))) seen.add(JSON.stringify(p.place));
    expect(seen.size).toBe(PLACES.length);
  });

  it('evaluation takes the centre crop, the same on every call; the held-out split is never augmented', async () => {
    const ds = await storedImages(4);
    const a = await openTrainData(config({ augment: 'paper' }), spec);
    const first = await values(a.data.train, indices);
    expect(await values(a.data.train, indices, 'eval')).toEqual(first);
    for (const p of await placesOf(ds, indices, first)) expect(p.place).toEqual({ top: 1, left: 1, mirror: false });
    const test = a.data.test!;
    expect(test.size).toBe(3);
    expect(await values(test, [0, 1, 2], 'train')).toEqual(await values(test, [0, 1, 2]));
    // Evaluation draws nothing from the training augmentation's random stream.
    await values(a.data.train, indices, 'train');
    const state = a.data.augment!.getState();
    await values(test, [0, 1, 2]);
    await values(a.data.train, indices);
    expect(a.data.augment!.getState()).toEqual(state);
  });

  it("'paper' adds one PCA colour shift per image, of the size the training images' eigenvalues give", async () => {
    const ds = await storedImages(4);
    const a = await openTrainData(config({ augment: 'paper' }), spec);
    const pca = await fitColourPca(ds.train);
    const all = Array.from({ length: ds.train.count }, (_, i) => i);
    const shifts: number[][] = [];
    for (let epoch = 0; epoch < 6; epoch++) {
      const patches = await values(a.data.train, all, 'train');
      for (const p of await placesOf(ds, all, patches, true)) shifts.push(p.shift);
    }
    // |shift|^2 = sum_i (alpha_i lambda_i 255)^2 with alpha_i ~ N(0, 0.1): its mean is (25.5)^2 sum lambda_i^2.
    const expectedRms = 0.1 * 255 * Math.hypot(...pca.eigenvalues);
    const rms = Math.sqrt(shifts.reduce((s, v) => s + v[0] ** 2 + v[1] ** 2 + v[2] ** 2, 0) / shifts.length);
    expect(rms / expectedRms).toBeGreaterThan(0.8);
    expect(rms / expectedRms).toBeLessThan(1.2);
    // A shift of the image's mean colour of a few levels: visible as jitter, far from washing out the image.
    expect(expectedRms).toBeGreaterThan(0.5);
    expect(expectedRms).toBeLessThan(10);
    expect(new Set(shifts.map((s) => s.join())).size).toBe(shifts.length);
  });

  it('mean-image preprocessing subtracts the stored-size mean image at the crop place', async () => {
    const ds = await storedImages(4);
    const a = await openTrainData(config({ preprocess: 'mean-image' }), spec);
    const p = a.preprocess as { shape: number[]; mean: number[]; scale: number };
    expect(p.shape).toEqual([STORED, STORED, 3]);
    const mean: PixelImage = { data: Float32Array.from(p.mean), width: STORED, height: STORED, channels: 3 };
    const batches = [await values(a.data.train, indices, 'train'), await values(a.data.train, indices)];
    for (const [b, patches] of batches.entries()) {
      for (const [n, i] of indices.entries()) {
        const found = findPlace(await stored(ds, i), patches.subarray(n * PATCH, (n + 1) * PATCH), { scale: p.scale, mean });
        expect(found, `patch ${n} of batch ${b}`).not.toBeNull();
        if (b === 1) expect(found!.place).toEqual({ top: 1, left: 1, mirror: false });
      }
    }
  });

  it('serving batches leaves no tensors behind', async () => {
    const a = await openTrainData(config({ augment: 'paper', preprocess: 'mean-pixel' }), spec);
    await values(a.data.train, indices, 'train');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      await values(a.data.train, indices, 'train');
      await values(a.data.test!, [0, 1, 2]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a larger stored size without augmentation trains and evaluates on centre crops', async () => {
    const ds = await openFolderDataset(root, { inputSize: INPUT, storedSize: 20, channels: 3, testFraction: 0.1, splitSeed: 4 });
    const a = await openTrainData(config({ augment: 'none', storedSize: 20 }), spec);
    expect(a.data.augment).toBeUndefined();
    const patches = await values(a.data.train, [0], 'train');
    const centre = new Float32Array(PATCH);
    cropInto({ data: (await ds.train.read([0])).images, width: 20, height: 20, channels: 3 }, INPUT, { top: 2, left: 2, mirror: false }, centre);
    expect(patches).toEqual(centre);
    // Without augmentation and a stored size the images are stored at the input size, as before.
    expect((await openTrainData(config({ augment: 'none' }), spec)).dataset?.storedSize).toBe(INPUT);
  });
});

describe('augmentation settings', () => {
  it('are refused where they cannot apply, with the reason', async () => {
    expect(() => validateConfig({ ...defaultConfig('lenet5', 'mnist'), augment: 'crop-mirror' })).toThrow(TrainConfigError);
    expect(() => validateConfig({ ...defaultConfig('lenet5', 'fashion-mnist'), augment: 'paper' })).toThrow(/needs a folder: dataset/);
    expect(() => validateConfig({ ...defaultConfig('lenet5', 'mnist'), storedSize: 32 })).toThrow(/folder: datasets only/);
    expect(() => validateConfig({ ...config(), augment: 'rotate' as TrainConfig['augment'] })).toThrow(/unknown augmentation 'rotate'/);
    expect(() => validateConfig({ ...config(), storedSize: 0 })).toThrow(/stored image size/);
    expect(() => validateConfig(config())).not.toThrow();
    // PCA jitter needs RGB; a stored size below the input cannot be cropped.
    await expect(openTrainData(config({ augment: 'paper' }), getModelSpec('lenet5', { input: '16x16x1' }))).rejects.toThrow(/needs RGB images/);
    await expect(openTrainData(config({ storedSize: 12 }), spec)).rejects.toThrow(/stored size 12/);
  });

  it('old config.json files read as unaugmented', () => {
    const { augment: _a, storedSize: _s, ...old } = config();
    expect(withConfigDefaults(old as TrainConfig)).toMatchObject({ augment: 'none', storedSize: null });
  });
});

describe('an augmented training run', () => {
  it("trains a small model for an epoch with 'paper' augmentation on cpu, storing the augmentation state", async () => {
    const runDir = path.join(parent, 'run');
    const trainer = await startRun(
      {
        ...config({ augment: 'paper', preprocess: 'scale' }),
        model: { id: 'lenet5', overrides: { input: `${INPUT}x${INPUT}x3`, width: 0.5 } },
        backend: 'cpu',
        batchSize: 9,
        probeSize: 3,
        statsEvery: 2,
        snapshotEvery: 2,
      },
      { runDir },
    );
    const counts: number[] = [];
    trainer.on((e) => {
      if (e.type === 'batch') counts.push(tf.memory().numTensors);
    });
    const before = tf.memory().numTensors;
    const result = await trainer.run();
    trainer.dispose();
    expect(result.state).toBe('finished');
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBeLessThan(before);
    const [epoch] = result.epochs;
    expect(epoch.examples).toBe(27);
    expect(Number.isFinite(epoch.loss)).toBe(true);
    expect(epoch.testAccuracy).not.toBeNull();
    const run = await readRun(runDir);
    expect(run.batches).toHaveLength(3);
    expect(JSON.parse(await readFile(path.join(runDir, 'dataset.json'), 'utf8')).storedSize).toBe(STORED);
    expect(JSON.parse(await readFile(path.join(runDir, 'config.json'), 'utf8'))).toMatchObject({ augment: 'paper', storedSize: null });
    const checkpoint = await readCheckpointFile<CheckpointMeta>(path.join(runDir, 'checkpoint.bin'));
    expect(checkpoint!.meta.augmentRng?.algorithm).toBe('xoshiro128**');
    // Training drew its crops from the stream: the stored state is past the run's initial one.
    const initial = (await openTrainData(config({ augment: 'paper' }), spec)).data.augment!.getState();
    expect(checkpoint!.meta.augmentRng).not.toEqual(initial);
  });
});
