// An imported model's own preprocessing (its model-info.json) applied to an image exactly: scale the
// shorter side to resizeShorterSide, crop the centre to the input size, then x = (v * scale - mean[c]) /
// std[c] per channel in the model's channel order (import/preprocess's pixelsToInput: the rule that
// model-info.json documents). Datasets go through the data module instead, whose Preprocessor has one scale
// for all channels and no channel swap: datasetPreprocessor gives its nearest form and says what differs.
import { tf } from '../tf';
import { decodeImage, readImageInfo } from '../data/image-decode';
import type { Preprocessor } from '../data/preprocess';
import type { ImportedModelInfo } from '../import/model-info';
import { pixelsToInput, type Preprocessing } from '../import/preprocess';
import { InspectModelError } from './errors';
import type { InputPreparer } from './input';

export interface ImportedInputs {
  /** The exact preprocessing, for images. */
  prepare: InputPreparer;
  /** The data module's nearest form, for datasets (evaluation). */
  preprocessor: Preprocessor;
  /** The import's notes, then what the dataset form cannot express. */
  notes: string[];
}

/** Everything inspection and evaluation need from an imported model's model-info.json. */
export function importedInputs(info: ImportedModelInfo, input: readonly [number, number, number]): ImportedInputs {
  const { preprocessor, notes } = datasetPreprocessor(info.preprocessing, input);
  return { prepare: importedPreparer(info.preprocessing, input, preprocessor), preprocessor, notes: [...info.notes, ...notes] };
}

/** Image -> model input with the imported preprocessing; `preprocessor` is what the preparer reports for datasets. */
export function importedPreparer(p: Preprocessing, input: readonly [number, number, number], preprocessor: Preprocessor = datasetPreprocessor(p, input).preprocessor): InputPreparer {
  const [height, width, channels] = input;
  checkChannels(p, channels);
  return {
    preprocessor,
    description: describeImported(p, input),
    async prepare(image, options = {}) {
      const header = await readImageInfo(image, { name: options.name });
      const size = resizedSize(header.width, header.height, width, height, p.resizeShorterSide);
      const decoded = await decodeImage(image, { channels: 3, width: size.width, height: size.height, fit: 'stretch', name: options.name });
      const rgb = centreCrop(decoded.data, size.width, size.height, width, height);
      const values = pixelsToInput(rgb, width, height, 3, p);
      const pixels = channels === 1 ? greyOf(rgb) : rgb;
      return { pixels, width, height, channels, x: tf.tensor4d(values, [1, height, width, channels]), original: decoded.original };
    },
  };
}

/**
 * The size an image of w0 x h0 is resized to before the centre crop: as torchvision's Resize(shorterSide),
 * the shorter side to shorterSide and the longer one in proportion, truncated; the crop size itself when the
 * model resizes whole images (null). Where that would be smaller than the crop, just large enough to cover it.
 */
export function resizedSize(w0: number, h0: number, width: number, height: number, shorterSide: number | null): { width: number; height: number } {
  if (shorterSide === null) return { width, height };
  const size = w0 <= h0 ? { width: shorterSide, height: Math.floor((shorterSide * h0) / w0) } : { width: Math.floor((shorterSide * w0) / h0), height: shorterSide };
  if (size.width >= width && size.height >= height) return size;
  const k = Math.max(width / w0, height / h0);
  return { width: Math.max(width, Math.round(w0 * k)), height: Math.max(height, Math.round(h0 * k)) };
}

/** The central width x height window of an RGB image, its offsets rounded half to even as torchvision's CenterCrop (Python's round). */
export function centreCrop(rgb: Uint8Array, w: number, h: number, width: number, height: number): Uint8Array {
  if (w === width && h === height) return rgb;
  const top = roundHalfEven((h - height) / 2);
  const left = roundHalfEven((w - width) / 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(rgb.subarray(((top + y) * w + left) * 3, ((top + y) * w + left + width) * 3), y * width * 3);
  return out;
}

/**
 * The data module's Preprocessor ((pixel - mean[c]) * scale) nearest to an imported preprocessing, for
 * images that come from a dataset: exact when every channel has the same std and the order is RGB (or grey).
 */
export function datasetPreprocessor(p: Preprocessing, input: readonly [number, number, number]): { preprocessor: Preprocessor; notes: string[] } {
  const channels = input[2];
  checkChannels(p, channels);
  const notes: string[] = [];
  const std = p.std.reduce((a, b) => a + b, 0) / channels;
  if (p.std.some((s) => Math.abs(s - std) > 1e-6 * std)) {
    notes.push(`evaluation on a dataset divides every channel by ${std.toPrecision(4)}, the mean of the model's per-channel std (${p.std.join(', ')}); images are exact`);
  }
  if (p.channelOrder === 'BGR') notes.push('evaluation on a dataset feeds RGB to this BGR model; images are exact');
  const side = Math.max(input[0], input[1]);
  if (p.resizeShorterSide !== null && p.resizeShorterSide !== side) {
    notes.push(`dataset images are scaled with their shorter side to ${side} before the centre crop (the model was made for ${p.resizeShorterSide}); images are exact`);
  }
  const shape: [number, number, number] = [input[0], input[1], input[2]];
  const scale = p.scale / std;
  const preprocessor: Preprocessor = p.mean.every((m) => m === 0)
    ? { version: 1, kind: scale === 1 ? 'raw' : 'scale', shape, mean: [], scale, fittedOn: null }
    : { version: 1, kind: 'mean-pixel', shape, mean: p.mean.map((m) => m / p.scale), scale, fittedOn: null };
  return { preprocessor, notes };
}

/** One line, e.g. "torchvision-imagenet (RGB, (pixel x 0.003922 - mean) / std, mean 0.485 ..., shorter side 256, centre crop 224x224)". */
export function describeImported(p: Preprocessing, input: readonly [number, number, number]): string {
  const list = (xs: number[]) => xs.map((x) => Number(x.toPrecision(6))).join('/');
  const crop = p.resizeShorterSide === null ? `resized to ${input[1]}x${input[0]}` : `shorter side ${p.resizeShorterSide}, centre crop ${input[1]}x${input[0]}`;
  return `${p.preset} (${p.channelOrder}, (pixel x ${Number(p.scale.toPrecision(6))} - mean) / std, mean ${list(p.mean)}, std ${list(p.std)}, ${crop})`;
}

function checkChannels(p: Preprocessing, channels: number): void {
  const expected = p.channelOrder === 'gray' ? 1 : 3;
  if (channels !== expected || p.mean.length !== channels || p.std.length !== channels) {
    throw new InspectModelError(`imported preprocessing (${p.channelOrder}, ${p.mean.length} means, ${p.std.length} stds) does not fit a ${channels}-channel input`);
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** What a grey model sees, as bytes: the mean of R, G and B (pixelsToInput's grey). */
function greyOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2]) / 3);
  return out;
}
