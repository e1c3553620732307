// The one shape every dataset has (built-in IDX datasets, image folders): two splits of uint8 NHWC images
// with int32 class labels, read by index. Reads are async so a split may read files lazily; in-memory
// splits resolve at once. Augmentation is not part of reading: reads are deterministic, and random
// crops/mirrors are applied afterwards to the batch (augment.ts), so a read is reproducible.
import { ConvscopeError } from '../errors';

/** [height, width, channels], channels 1 (grey) or 3 (RGB). */
export type ImageShape = readonly [height: number, width: number, channels: number];

export interface Examples {
  /** Number of examples read (= indices.length). */
  count: number;
  /** count * h * w * c bytes, NHWC, row-major; 0 = black, 255 = white (or full channel). */
  images: Uint8Array;
  /** count class indices into Dataset.classNames. */
  labels: Int32Array;
}

export interface DataSplit {
  readonly count: number;
  readonly shape: ImageShape;
  /** The examples at these indices, in this order (repeats allowed). Rejects with DatasetError 'bad-index' for an index outside [0, count). */
  read(indices: ArrayLike<number>): Promise<Examples>;
}

export interface Dataset {
  /** As the registry names it: 'mnist', 'fashion-mnist', 'folder:/abs/path'. */
  readonly id: string;
  /** For people: 'MNIST', 'Fashion-MNIST', the folder's name. */
  readonly title: string;
  readonly classNames: readonly string[];
  readonly shape: ImageShape;
  readonly train: DataSplit;
  /** null when the source has no test split (a folder without one): use splitValidation on train. */
  readonly test: DataSplit | null;
  /** Where the data came from (folder or file path, URL), for logs and run records. */
  readonly source: string;
  /** Things the user should know (e.g. files that could not be read and were skipped). */
  readonly warnings: readonly string[];
}

export type DatasetErrorCode =
  | 'unknown-dataset'
  | 'dataset-missing'
  | 'bad-file'
  | 'bad-index'
  | 'bad-argument'
  | 'download-failed'
  | 'checksum-mismatch';

export class DatasetError extends ConvscopeError {
  declare readonly code: DatasetErrorCode;
  constructor(message: string, code: DatasetErrorCode) {
    super(message, code);
    this.name = 'DatasetError';
  }
}

export function pixelsPerImage(shape: ImageShape): number {
  return shape[0] * shape[1] * shape[2];
}

function checkIndex(index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new DatasetError(`example index ${index} is outside [0, ${count})`, 'bad-index');
  }
}

/** A split held in memory: `images` has count * h * w * c bytes, `labels` count entries. Arrays are not copied. */
export function inMemorySplit(images: Uint8Array, labels: Int32Array, shape: ImageShape): DataSplit {
  const size = pixelsPerImage(shape);
  if (images.length !== labels.length * size) {
    throw new DatasetError(`in-memory split: ${images.length} image bytes for ${labels.length} labels of ${shape.join('x')} (expected ${labels.length * size})`, 'bad-argument');
  }
  const count = labels.length;
  return {
    count,
    shape,
    async read(indices) {
      const n = indices.length;
      const out = new Uint8Array(n * size);
      const outLabels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const k = indices[i];
        checkIndex(k, count);
        out.set(images.subarray(k * size, (k + 1) * size), i * size);
        outLabels[i] = labels[k];
      }
      return { count: n, images: out, labels: outLabels };
    },
  };
}

/** The examples of `split` at `indices` (copied), as a split of its own. */
export function subsetSplit(split: DataSplit, indices: ArrayLike<number>): DataSplit {
  const map = Int32Array.from(indices);
  for (const k of map) checkIndex(k, split.count);
  return {
    count: map.length,
    shape: split.shape,
    async read(sub) {
      const mapped = new Int32Array(sub.length);
      for (let i = 0; i < sub.length; i++) {
        checkIndex(sub[i], map.length);
        mapped[i] = map[sub[i]];
      }
      return split.read(mapped);
    },
  };
}

function range(start: number, end: number): Int32Array {
  const out = new Int32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/** The first `n` training examples (all when n >= count); test split unchanged. `testLimit` likewise for test. */
export function limit(dataset: Dataset, n: number | null, testLimit: number | null = null): Dataset {
  const cut = (split: DataSplit, k: number | null, what: string): DataSplit => {
    if (k === null || k >= split.count) return split;
    if (!Number.isInteger(k) || k < 1) throw new DatasetError(`${what} limit must be a whole number >= 1, got ${k}`, 'bad-argument');
    return subsetSplit(split, range(0, k));
  };
  return {
    ...dataset,
    train: cut(dataset.train, n, 'training'),
    test: dataset.test && cut(dataset.test, testLimit, 'test'),
  };
}

/** mulberry32: a tiny seeded PRNG, enough to shuffle a validation split reproducibly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ValidationSplitOptions {
  /** Share of the split held out, in (0, 1). */
  fraction: number;
  /** Seed of the shuffle that picks the held-out examples (folders list examples class by class). Default 0. */
  seed?: number;
}

/**
 * Holds out round(fraction * count) examples, picked by a seeded shuffle; both parts keep the original
 * order of their examples. The same split, fraction and seed always give the same parts.
 */
export function splitValidation(split: DataSplit, options: ValidationSplitOptions): { train: DataSplit; validation: DataSplit } {
  const { fraction, seed = 0 } = options;
  if (!(fraction > 0 && fraction < 1)) throw new DatasetError(`validation fraction must be between 0 and 1 (exclusive), got ${fraction}`, 'bad-argument');
  const held = Math.round(fraction * split.count);
  if (held < 1 || held >= split.count) {
    throw new DatasetError(`a validation fraction of ${fraction} of ${split.count} examples leaves ${held} held out and ${split.count - held} to train on`, 'bad-argument');
  }
  const order = range(0, split.count);
  const random = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const validation = order.slice(0, held).sort();
  const train = order.slice(held).sort();
  return { train: subsetSplit(split, train), validation: subsetSplit(split, validation) };
}

/** Reads the whole split in chunks, calling `visit` for each (for statistics over large splits). */
export async function forEachChunk(split: DataSplit, visit: (chunk: Examples, start: number) => void, chunkSize = 4096): Promise<void> {
  for (let start = 0; start < split.count; start += chunkSize) {
    visit(await split.read(range(start, Math.min(split.count, start + chunkSize))), start);
  }
}
