// How uint8 pixels become a model's float input. A Preprocessor is plain data (its kind and the
// statistics it was fitted with), so a run stores it as JSON and inspection later applies exactly the
// same transformation. Every kind computes (pixel - mean) * scale:
//   raw         mean 0, scale 1      pixels 0-255 as the blog's notebooks fed them
//   scale       mean 0, scale 1/255  pixels in [0, 1]
//   mean-pixel  per-channel mean of the training set, scale 1/255 (values about -0.5..1)
//   mean-image  per-pixel (HWC) mean image of the training set, scale 1/255: the paper's "subtract the
//               mean activity over the training set from each pixel". The paper fed the differences
//               unscaled (0-255 units); pass { scale: 1 } to computePreprocessor for that.
// The mean kinds divide by 255 by default so every kind but raw gives inputs of the same magnitude, which
// keeps one learning rate usable across them.
import { tf } from '../tf';
import { DatasetError, forEachChunk, pixelsPerImage, type DataSplit, type Examples, type ImageShape } from './dataset';

export const PREPROCESS_KINDS = ['raw', 'scale', 'mean-pixel', 'mean-image'] as const;
export type PreprocessKind = (typeof PREPROCESS_KINDS)[number];

export interface Preprocessor {
  version: 1;
  kind: PreprocessKind;
  /** [height, width, channels] of the images it applies to (the dataset's shape). */
  shape: [number, number, number];
  /** Subtracted first, in pixel units (0-255): none for raw and scale, one per channel for mean-pixel, h*w*c (HWC order) for mean-image. */
  mean: number[];
  /** Multiplied after subtracting. */
  scale: number;
  /** The training data its statistics came from (null when it has none). */
  fittedOn: { dataset: string; examples: number } | null;
}

export function isPreprocessKind(kind: string): kind is PreprocessKind {
  return (PREPROCESS_KINDS as readonly string[]).includes(kind);
}

function checkKind(kind: string): PreprocessKind {
  if (!isPreprocessKind(kind)) throw new DatasetError(`unknown preprocessing '${kind}' (choose ${PREPROCESS_KINDS.join(', ')})`, 'bad-argument');
  return kind;
}

export interface ComputeOptions {
  /** Override the multiplier applied after subtracting (e.g. 1 for the paper's unscaled mean-image). */
  scale?: number;
}

/** Fits `kind` on the training split (reads it only for the mean kinds). */
export async function computePreprocessor(kind: string, data: { id: string; train: DataSplit }, options: ComputeOptions = {}): Promise<Preprocessor> {
  const k = checkKind(kind);
  const shape = [...data.train.shape] as [number, number, number];
  const scale = options.scale ?? (k === 'raw' ? 1 : 1 / 255);
  if (!(Number.isFinite(scale) && scale > 0)) throw new DatasetError(`preprocessing scale must be a positive number, got ${scale}`, 'bad-argument');
  if (k === 'raw' || k === 'scale') return { version: 1, kind: k, shape, mean: [], scale, fittedOn: null };

  const split = data.train;
  if (split.count === 0) throw new DatasetError(`cannot fit '${k}' preprocessing on ${data.id}: the training split is empty`, 'bad-argument');
  const size = pixelsPerImage(shape);
  const sums = new Float64Array(size);
  await forEachChunk(split, (chunk) => {
    const images = chunk.images;
    for (let n = 0; n < chunk.count; n++) {
      const base = n * size;
      for (let i = 0; i < size; i++) sums[i] += images[base + i];
    }
  });
  let mean: number[];
  if (k === 'mean-image') {
    mean = Array.from(sums, (s) => s / split.count);
  } else {
    const channels = shape[2];
    const perChannel = new Float64Array(channels);
    for (let i = 0; i < size; i++) perChannel[i % channels] += sums[i];
    mean = Array.from(perChannel, (s) => s / (split.count * (size / channels)));
  }
  return { version: 1, kind: k, shape, mean, scale, fittedOn: { dataset: data.id, examples: split.count } };
}

/** Checks a stored preprocessor (e.g. parsed from a run's JSON) and returns it typed; clear error otherwise. */
export function parsePreprocessor(value: unknown): Preprocessor {
  const bad = (why: string) => new DatasetError(`stored preprocessing is invalid: ${why}`, 'bad-argument');
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1) throw bad(`unknown version ${JSON.stringify(v.version)}`);
  if (typeof v.kind !== 'string' || !isPreprocessKind(v.kind)) throw bad(`unknown kind ${JSON.stringify(v.kind)}`);
  const shape = v.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) throw bad(`shape ${JSON.stringify(shape)} is not [height, width, channels]`);
  if (typeof v.scale !== 'number' || !(Number.isFinite(v.scale) && v.scale > 0)) throw bad(`scale ${JSON.stringify(v.scale)} is not a positive number`);
  if (!Array.isArray(v.mean) || !v.mean.every((m) => typeof m === 'number' && Number.isFinite(m))) throw bad('mean is not a list of numbers');
  const expected = { raw: 0, scale: 0, 'mean-pixel': shape[2], 'mean-image': shape[0] * shape[1] * shape[2] }[v.kind];
  if (v.mean.length !== expected) throw bad(`${v.kind} needs ${expected} mean values for ${shape.join('x')}, got ${v.mean.length}`);
  const fitted = v.fittedOn;
  if (fitted !== null && (typeof fitted !== 'object' || typeof (fitted as Record<string, unknown>).dataset !== 'string' || !Number.isInteger((fitted as Record<string, unknown>).examples))) {
    throw bad('fittedOn is neither null nor { dataset, examples }');
  }
  return {
    version: 1,
    kind: v.kind,
    shape: [shape[0], shape[1], shape[2]],
    mean: v.mean as number[],
    scale: v.scale,
    fittedOn: fitted === null ? null : { dataset: (fitted as { dataset: string }).dataset, examples: (fitted as { examples: number }).examples },
  };
}

/** n images of p.shape (uint8, NHWC) -> float32 NHWC, (pixel - mean) * scale. */
export function applyPreprocessor(p: Preprocessor, images: Uint8Array, n: number): Float32Array {
  const size = pixelsPerImage(p.shape);
  if (images.length !== n * size) {
    throw new DatasetError(`preprocessing for ${p.shape.join('x')} images: got ${images.length} bytes for ${n} images (expected ${n * size})`, 'bad-argument');
  }
  const out = new Float32Array(images.length);
  const scale = p.scale;
  if (p.mean.length === 0) {
    for (let i = 0; i < out.length; i++) out[i] = images[i] * scale;
    return out;
  }
  // mean-pixel repeats its c values over the image, mean-image its h*w*c values: one pattern per image.
  const pattern = new Float32Array(size);
  for (let i = 0; i < size; i++) pattern[i] = p.mean[i % p.mean.length];
  for (let base = 0; base < out.length; base += size) {
    for (let i = 0; i < size; i++) out[base + i] = (images[base + i] - pattern[i]) * scale;
  }
  return out;
}

/** BT.601 luma weights, for turning an RGB batch into one grey channel. */
const LUMA = [0.299, 0.587, 0.114];

/**
 * Adapts a preprocessed NHWC batch to a model's input [h, w, c]: bilinear resize (half-pixel centres)
 * when the size differs, grey -> RGB by repeating the channel, RGB -> grey by BT.601 luma.
 * Returns `x` itself when it already fits; otherwise a new tensor (x is not disposed).
 */
export function adaptToInput(x: tf.Tensor4D, input: ImageShape): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  const [toH, toW, toC] = input;
  if (c !== toC && !(c === 1 && toC === 3) && !(c === 3 && toC === 1)) {
    throw new DatasetError(`cannot adapt ${c}-channel images to a ${toC}-channel model input (only grey <-> RGB)`, 'bad-argument');
  }
  if (h === toH && w === toW && c === toC) return x;
  return tf.tidy(() => {
    let y: tf.Tensor4D = h === toH && w === toW ? x : tf.image.resizeBilinear(x, [toH, toW], false, true);
    if (c === 1 && toC === 3) y = tf.tile(y, [1, 1, 1, 3]);
    else if (c === 3 && toC === 1) y = tf.sum(tf.mul(y, tf.tensor1d(LUMA)), -1, true) as tf.Tensor4D;
    return y;
  });
}

/** Examples -> a float32 [n, h, w, c] tensor for a model with input `input` (default: the preprocessor's shape). */
export function preprocessBatch(p: Preprocessor, examples: Examples, input: ImageShape = p.shape): tf.Tensor4D {
  const values = applyPreprocessor(p, examples.images, examples.count);
  return tf.tidy(() => adaptToInput(tf.tensor4d(values, [examples.count, ...p.shape]), input));
}

/** One line for logs: "mean-image (per-pixel mean image subtracted, then / 255, fitted on 60000 examples of mnist)". */
export function describePreprocessor(p: Preprocessor): string {
  const what = { raw: 'pixels 0-255', scale: 'pixels / 255', 'mean-pixel': 'per-channel mean subtracted', 'mean-image': 'per-pixel mean image subtracted' }[p.kind];
  const fitted = p.fittedOn ? `, fitted on ${p.fittedOn.examples} examples of ${p.fittedOn.dataset}` : '';
  const scale = p.kind === 'raw' || p.kind === 'scale' ? '' : p.scale === 1 ? ', unscaled' : p.scale === 1 / 255 ? ', then / 255' : `, then x ${p.scale}`;
  return `${p.kind} (${what}${scale}${fitted})`;
}
