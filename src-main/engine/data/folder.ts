// `folder:PATH` datasets, ImageNet style: one subfolder per class (class names = the sorted subfolder
// names), images of any size, format and colour mode inside (searched recursively). Each image is decoded
// once with sharp, resized the paper's way (shorter side to S, centre S x S crop) and cached as raw uint8 in
// a disk cache keyed by the file's path, size and mtime and S. Splits serve those S x S images; the
// model's input-size crops (random for training, centre for testing) come from augment.ts.
//
// Layouts:
// - ROOT/<class>/...                        one pool of examples; `test` is null, or a stratified holdout
//                                           of `testFraction` when that option is set;
// - ROOT/train/<class>/... + ROOT/val|validation|test/<class>/...   the second folder is the test split
//                                           (its class folders must be among train's).
// Files that cannot be decoded are skipped and reported by name (warnings, onWarning); they never stop the
// dataset from opening. Only files inside the folder are read: symlinked class folders are skipped, and so
// are symlinked files whose target lies outside the folder (counted in a warning).
// Example order: the classes interleaved in proportion to their sizes (interleaveClasses), each class's files
// in sorted path order. It depends on the file list only (no seed), so "the first N examples" (a run's limit)
// are a representative sample, the same in every run and on resume.
import { readdir, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRandom } from '../train/rng';
import { DatasetError, type DataSplit, type Dataset, type Examples, type ImageShape } from './dataset';
import { cacheKey, defaultImageCacheDir, ImageCache } from './image-cache';
import { ImageDecodeError, resizeShorterAndCenterCrop } from './image-decode';
import { readImageFile } from './read-image-file';
import { READ_EXTENSIONS, REFUSED_EXTENSIONS } from './image-formats';

/** Files listed as images: the formats read, and the refused ones, so those are reported as skipped, not silently ignored. */
export const IMAGE_EXTENSIONS: readonly string[] = [...READ_EXTENSIONS, ...REFUSED_EXTENSIONS];
const TEST_FOLDER_NAMES = ['val', 'validation', 'test'];
/** Bump when the stored pixels would change for the same source (resampling, colour handling). */
const CACHE_FORMAT = 1;
export const DEFAULT_CACHE_BUDGET_BYTES = 4 * 1024 ** 3;

/**
 * S, the side images are stored at, for a model input of `inputSize`: the paper crops 224 from 256, so
 * S = round(inputSize * 256 / 224); 225-227 (the paper's 224 plus the border its conv1 needs) also get 256.
 */
export function shorterSideFor(inputSize: number): number {
  if (!(Number.isInteger(inputSize) && inputSize >= 1)) throw new DatasetError(`model input size must be a whole number >= 1, got ${inputSize}`, 'bad-argument');
  if (inputSize >= 224 && inputSize <= 227) return 256;
  return Math.round((inputSize * 256) / 224);
}

export interface FolderDatasetOptions {
  /** Side of the model's square input (the crop size); sets the stored size S. */
  inputSize: number;
  /** 3 (default): RGB; 1: grey. */
  channels?: 1 | 3;
  /** S, overriding shorterSideFor(inputSize); must be >= inputSize. */
  storedSize?: number;
  cacheDir?: string;
  cacheBudgetBytes?: number;
  /** Without a val/test folder: hold out this share of each class as the test split (default: no test split). */
  testFraction?: number;
  /** Seed of the test holdout (default 0). */
  splitSeed?: number;
  maxInputPixels?: number;
  /** Images decoded at once (default: the number of CPUs, at most 8). */
  concurrency?: number;
  onWarning?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface FolderSplit extends DataSplit {
  /** Absolute paths of the examples, in example order. */
  readonly files: readonly string[];
  readonly labels: Int32Array;
}

export interface FolderDataset extends Dataset {
  readonly train: FolderSplit;
  readonly test: FolderSplit | null;
  readonly layout: 'classes' | 'train-test';
  readonly inputSize: number;
  /** S: the stored images are S x S (= shape[0]). */
  readonly storedSize: number;
  readonly skipped: readonly SkippedFile[];
  /** What opening did: images found in the cache, images decoded now. */
  readonly cacheStats: { hits: number; decoded: number };
}

interface Entry {
  file: string;
  label: number;
  key: string;
}

async function subfolders(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true });
  return items
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/**
 * The image files under `dir`, searched recursively: regular files, and symbolic links whose target is a
 * file inside `realRoot` (the dataset folder's real path). Links leading outside it are not read (a folder
 * the user opened must not expose files outside it), nor are symlinked folders, FIFOs or devices.
 */
async function imageFiles(dir: string, realRoot: string, linksOut: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (item.name.startsWith('.')) continue;
    const full = path.join(dir, item.name);
    if (item.isDirectory()) out.push(...(await imageFiles(full, realRoot, linksOut)));
    else if (!IMAGE_EXTENSIONS.includes(path.extname(item.name).toLowerCase())) continue;
    else if (item.isFile()) out.push(full);
    else if (item.isSymbolicLink()) {
      if (await linksInside(full, realRoot)) out.push(full);
      else linksOut.push(full);
    }
  }
  return out.sort();
}

/** Whether a symbolic link leads to a regular file inside `realRoot`. */
async function linksInside(link: string, realRoot: string): Promise<boolean> {
  try {
    const target = await realpath(link);
    const rel = path.relative(realRoot, target);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && (await stat(target)).isFile();
  } catch {
    return false;
  }
}

/** Runs `task` on every item with at most `limit` running at once. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describe(err: unknown): string {
  if (err instanceof ImageDecodeError) return err.message.slice(err.source.length + 2);
  return err instanceof Error ? err.message : String(err);
}

class FolderReader {
  constructor(
    /** The dataset folder's real path: only files inside it are read. */
    readonly realRoot: string,
    readonly cache: ImageCache,
    readonly storedSize: number,
    readonly channels: 1 | 3,
    readonly maxInputPixels: number | undefined,
    readonly concurrency: number,
  ) {}

  get bytesPerImage(): number {
    return this.storedSize * this.storedSize * this.channels;
  }

  async decode(file: string): Promise<Uint8Array> {
    // The bytes, not the path, go to the decoder: a link swapped in after listing is never followed.
    const bytes = await readImageFile(file, this.realRoot);
    const img = await resizeShorterAndCenterCrop(bytes, this.storedSize, { name: path.basename(file), channels: this.channels, maxInputPixels: this.maxInputPixels });
    return img.data;
  }

  /** The stored pixels of `entry`: from the cache, else decoded (and cached) again. */
  async pixels(entry: Entry): Promise<Uint8Array> {
    const cached = await this.cache.get(entry.key, this.bytesPerImage);
    if (cached) return cached;
    let data: Uint8Array;
    try {
      data = await this.decode(entry.file);
    } catch (err) {
      throw new DatasetError(`${entry.file}: ${describe(err)} (it could be read when the dataset was opened)`, 'bad-file');
    }
    await this.cache.put(entry.key, data);
    return data;
  }

  split(entries: readonly Entry[]): FolderSplit {
    const shape: ImageShape = [this.storedSize, this.storedSize, this.channels];
    const size = this.bytesPerImage;
    const labels = Int32Array.from(entries, (e) => e.label);
    return {
      count: entries.length,
      shape,
      files: entries.map((e) => e.file),
      labels,
      read: async (indices: ArrayLike<number>): Promise<Examples> => {
        const n = indices.length;
        const picked: Entry[] = [];
        for (let i = 0; i < n; i++) {
          const k = indices[i];
          if (!Number.isInteger(k) || k < 0 || k >= entries.length) throw new DatasetError(`example index ${k} is outside [0, ${entries.length})`, 'bad-index');
          picked.push(entries[k]);
        }
        const images = new Uint8Array(n * size);
        const outLabels = new Int32Array(n);
        await eachLimited(picked, this.concurrency, async (entry, i) => {
          images.set(await this.pixels(entry), i * size);
          outLabels[i] = entry.label;
        });
        return { count: n, images, labels: outLabels };
      },
    };
  }
}

async function findLayout(root: string): Promise<{ layout: 'classes' | 'train-test'; trainDir: string; testDir: string | null }> {
  const top = await subfolders(root);
  const testName = TEST_FOLDER_NAMES.find((n) => top.includes(n));
  if (top.includes('train') && testName) {
    const trainDir = path.join(root, 'train');
    const testDir = path.join(root, testName);
    if ((await subfolders(trainDir)).length > 0 && (await subfolders(testDir)).length > 0) return { layout: 'train-test', trainDir, testDir };
  }
  return { layout: 'classes', trainDir: root, testDir: null };
}

/**
 * The entries reordered so every prefix holds the classes in about their overall proportions: the j-th of a
 * class's n entries goes to position (j + 1/2) / n of the whole (ties: lower label first); within a class the
 * order is kept. Equal class sizes give plain round-robin. Deterministic, no randomness.
 */
export function interleaveClasses<T extends { label: number }>(entries: readonly T[]): T[] {
  const sizes = new Map<number, number>();
  for (const e of entries) sizes.set(e.label, (sizes.get(e.label) ?? 0) + 1);
  const seen = new Map<number, number>();
  const keyed = entries.map((entry) => {
    const j = seen.get(entry.label) ?? 0;
    seen.set(entry.label, j + 1);
    return { entry, num: 2 * j + 1, den: sizes.get(entry.label)! };
  });
  // (2j+1)/n compared exactly as integers: a/b < c/d  <=>  a*d < c*b
  keyed.sort((a, b) => a.num * b.den - b.num * a.den || a.entry.label - b.entry.label);
  return keyed.map((k) => k.entry);
}

/**
 * Per class, a seeded shuffle holds out round(fraction * class size) examples. Each part keeps every class's
 * examples in their order and interleaves the classes again (interleaveClasses), so its first N stay representative.
 */
export function stratifiedSplit(split: FolderSplit, options: { fraction: number; seed?: number }): { train: FolderSplit; validation: FolderSplit } {
  const { fraction, seed = 0 } = options;
  if (!(fraction > 0 && fraction < 1)) throw new DatasetError(`validation fraction must be between 0 and 1 (exclusive), got ${fraction}`, 'bad-argument');
  const byClass = new Map<number, number[]>();
  split.labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const rng = createRandom(seed);
  const held: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(label)!;
    for (let i = list.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    held.push(...list.slice(0, Math.round(fraction * list.length)));
  }
  const heldSet = new Set(held);
  if (heldSet.size === 0 || heldSet.size === split.count) {
    throw new DatasetError(`a validation fraction of ${fraction} of ${split.count} examples leaves ${heldSet.size} held out and ${split.count - heldSet.size} to train on`, 'bad-argument');
  }
  const pick = (held: boolean): FolderSplit => {
    const kept: { label: number; i: number }[] = [];
    for (let i = 0; i < split.count; i++) if (heldSet.has(i) === held) kept.push({ label: split.labels[i], i });
    const indices = interleaveClasses(kept).map((e) => e.i);
    const map = Int32Array.from(indices);
    return {
      count: map.length,
      shape: split.shape,
      files: indices.map((i) => split.files[i]),
      labels: Int32Array.from(indices, (i) => split.labels[i]),
      read(sub) {
        const mapped = new Int32Array(sub.length);
        for (let i = 0; i < sub.length; i++) {
          const k = sub[i];
          if (!Number.isInteger(k) || k < 0 || k >= map.length) throw new DatasetError(`example index ${k} is outside [0, ${map.length})`, 'bad-index');
          mapped[i] = map[k];
        }
        return split.read(mapped);
      },
    };
  };
  return { train: pick(false), validation: pick(true) };
}

export async function openFolderDataset(root: string, options: FolderDatasetOptions): Promise<FolderDataset> {
  const absRoot = path.resolve(root);
  const rootInfo = await stat(absRoot).catch(() => null);
  if (!rootInfo?.isDirectory()) throw new DatasetError(`image folder ${absRoot} does not exist or is not a folder`, 'dataset-missing');

  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new DatasetError(`channels must be 1 or 3, got ${String(channels)}`, 'bad-argument');
  const defaultStoredSize = shorterSideFor(options.inputSize);
  const storedSize = options.storedSize ?? defaultStoredSize;
  if (!(Number.isInteger(storedSize) && storedSize >= options.inputSize)) {
    throw new DatasetError(`stored size ${storedSize} must be a whole number >= the model input size ${options.inputSize}`, 'bad-argument');
  }

  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const { layout, trainDir, testDir } = await findLayout(absRoot);
  const classNames = await subfolders(trainDir);
  if (classNames.length === 0) {
    throw new DatasetError(`image folder ${absRoot} has no class subfolders (expected one folder of images per class)`, 'dataset-missing');
  }
  const strayImages = (await readdir(trainDir, { withFileTypes: true })).filter((d) => d.isFile() && IMAGE_EXTENSIONS.includes(path.extname(d.name).toLowerCase()));
  if (strayImages.length > 0) warn(`${strayImages.length} image(s) directly in ${trainDir} are in no class folder and were ignored`);

  const realRoot = await realpath(absRoot);
  const linksOut: string[] = [];
  const listed: { file: string; label: number; test: boolean }[] = [];
  for (const [label, name] of classNames.entries()) {
    for (const file of await imageFiles(path.join(trainDir, name), realRoot, linksOut)) listed.push({ file, label, test: false });
  }
  if (testDir) {
    for (const name of await subfolders(testDir)) {
      const label = classNames.indexOf(name);
      if (label < 0) {
        warn(`${path.join(testDir, name)}: class "${name}" is not among the training classes; ignored`);
        continue;
      }
      for (const file of await imageFiles(path.join(testDir, name), realRoot, linksOut)) listed.push({ file, label, test: true });
    }
  }
  if (linksOut.length > 0) warn(`${linksOut.length} symbolic link(s) leading outside ${absRoot} were not read (e.g. ${linksOut[0]})`);

  const cache = await ImageCache.open(options.cacheDir ?? defaultImageCacheDir(), options.cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES);
  const concurrency = options.concurrency ?? Math.min(8, os.availableParallelism());
  const reader = new FolderReader(realRoot, cache, storedSize, channels, options.maxInputPixels, concurrency);

  const skipped: SkippedFile[] = [];
  const ok: (Entry & { test: boolean })[] = new Array(listed.length);
  let hits = 0;
  let decoded = 0;
  let done = 0;
  await eachLimited(listed, concurrency, async (item, i) => {
    let key: string;
    let pixels: Uint8Array | null = null;
    try {
      const info = await stat(item.file);
      key = cacheKey(CACHE_FORMAT, item.file, info.size, info.mtimeMs, storedSize, channels);
      if (!cache.has(key)) pixels = await reader.decode(item.file);
    } catch (err) {
      // Anything wrong with one file (unreadable, not an image, corrupt, too large) skips that file only.
      skipped.push({ file: item.file, reason: describe(err) });
      options.onProgress?.(++done, listed.length);
      return;
    }
    if (pixels) {
      try {
        await cache.put(key, pixels);
      } catch (err) {
        throw new DatasetError(`cannot write the image cache in ${cache.dir}: ${describe(err)}`, 'bad-argument');
      }
      decoded++;
    } else {
      hits++;
    }
    ok[i] = { file: item.file, label: item.label, key, test: item.test };
    options.onProgress?.(++done, listed.length);
  });
  skipped.sort((a, b) => a.file.localeCompare(b.file));
  for (const s of skipped) warn(`skipped ${s.file}: ${s.reason}`);

  const kept = ok.filter((e) => e !== undefined);
  const perClass = new Int32Array(classNames.length);
  for (const e of kept) if (!e.test) perClass[e.label]++;
  classNames.forEach((name, label) => {
    if (perClass[label] === 0) warn(`class "${name}" has no readable training images`);
  });
  let train = reader.split(interleaveClasses(kept.filter((e) => !e.test)));
  let test: FolderSplit | null = testDir ? reader.split(interleaveClasses(kept.filter((e) => e.test))) : null;
  if (!testDir && options.testFraction !== undefined) {
    const parts = stratifiedSplit(train, { fraction: options.testFraction, seed: options.splitSeed });
    train = parts.train;
    test = parts.validation;
  }
  if (train.count === 0) throw new DatasetError(`image folder ${absRoot} has no readable training images`, 'dataset-missing');

  return {
    id: `folder:${absRoot}`,
    title: path.basename(absRoot),
    classNames,
    shape: train.shape,
    train,
    test,
    source: absRoot,
    warnings,
    layout,
    inputSize: options.inputSize,
    storedSize,
    skipped,
    cacheStats: { hits, decoded },
  };
}
