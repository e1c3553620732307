// How an image becomes an imported model's input, and the ImageNet class names.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resourcesDir } from '../paths';
import type { Preprocessor } from '../data/preprocess';
import { shorterSideFor } from '../data/folder';
import { ImportOptionsError } from './errors';

export type PresetName = 'caffe-imagenet' | 'torchvision-imagenet' | 'scale' | 'normalize' | 'none';
/** Every preset a model-info.json may record. */
export const PRESET_NAMES: readonly PresetName[] = ['caffe-imagenet', 'torchvision-imagenet', 'scale', 'normalize', 'none'];
/** The presets `--preprocess` names on its own ('normalize' comes with its mean and std: `--mean`, `--std`). */
export const NAMED_PRESETS = ['caffe-imagenet', 'torchvision-imagenet', 'scale', 'none'] as const;
export type NamedPreset = (typeof NAMED_PRESETS)[number];

/** What an import is told to use: a named preset, or torchvision's Normalize(mean, std) on pixels scaled to 0-1, one value per channel. */
export type PreprocessChoice = NamedPreset | { mean: number[]; std: number[] };

/**
 * Per pixel and channel: x = (v * scale - mean[c]) / std[c], v the 8-bit value (0-255), channels in
 * `channelOrder` (the order of the model's input channels; 'gray' for one channel, the mean of R, G, B).
 */
export interface Preprocessing {
  preset: PresetName;
  channelOrder: 'RGB' | 'BGR' | 'gray';
  scale: number;
  mean: number[];
  std: number[];
  /** Resize so the shorter side has this many pixels, then centre-crop to the input size; null: resize the whole image to the input size. */
  resizeShorterSide: number | null;
}

/** BVLC's per-channel ILSVRC-2012 mean (of Caffe's ilsvrc_2012_mean.npy), in Caffe's BGR order. */
export const CAFFE_IMAGENET_MEAN_BGR = [104.00698793, 116.66876762, 122.67891434];

/**
 * A named preset for a model with `channels` input channels whose input's shorter side is `side`. The
 * ImageNet presets resize the image's shorter side to S = round(side * 256 / 224) (256 for 224-227, as in
 * training) and crop the centre; the others resize the whole image to the input size.
 */
export function preset(name: NamedPreset, channels: number, side = 224): Preprocessing {
  const plain = channels === 1 ? 'gray' : 'RGB';
  switch (name) {
    case 'caffe-imagenet':
      return { preset: name, channelOrder: 'BGR', scale: 1, mean: [...CAFFE_IMAGENET_MEAN_BGR], std: [1, 1, 1], resizeShorterSide: shorterSideFor(side) };
    case 'torchvision-imagenet':
      return { preset: name, channelOrder: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resizeShorterSide: shorterSideFor(side) };
    case 'scale':
      return { preset: name, channelOrder: plain, scale: 1 / 255, mean: new Array(channels).fill(0), std: new Array(channels).fill(1), resizeShorterSide: null };
    case 'none':
      return { preset: name, channelOrder: plain, scale: 1, mean: new Array(channels).fill(0), std: new Array(channels).fill(1), resizeShorterSide: null };
  }
}

/**
 * The preprocessing a choice gives a model whose input is [height, width, channels]; throws
 * ImportOptionsError when it does not fit those channels (the ImageNet presets need 3; a mean and std
 * need one value per channel, std > 0).
 */
export function preprocessingFor(choice: PreprocessChoice, input: readonly [number, number, number]): Preprocessing {
  const [height, width, channels] = input;
  if (typeof choice === 'string') {
    if ((choice === 'caffe-imagenet' || choice === 'torchvision-imagenet') && channels !== 3) {
      throw new ImportOptionsError(`--preprocess ${choice} is for 3-channel (RGB) models; this model takes ${channels} channel${channels === 1 ? '' : 's'}: use scale, none, or --mean/--std with ${channels} value${channels === 1 ? '' : 's'} each`);
    }
    return preset(choice, channels, Math.min(height, width));
  }
  const { mean, std } = choice;
  if (mean.length !== channels || std.length !== channels) {
    throw new ImportOptionsError(`--mean and --std need one value per input channel: this model takes ${channels}, given ${mean.length} mean${mean.length === 1 ? '' : 's'} and ${std.length} std${std.length === 1 ? '' : 's'}`);
  }
  if (channels !== 1 && channels !== 3) throw new ImportOptionsError(`ConvScope feeds images to 1-channel (grey) or 3-channel (RGB) models; this model takes ${channels} channels`);
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) throw new ImportOptionsError(`--mean needs finite numbers and --std numbers > 0, got mean ${mean.join(',')} and std ${std.join(',')}`);
  return { preset: 'normalize', channelOrder: channels === 1 ? 'gray' : 'RGB', scale: 1 / 255, mean: [...mean], std: [...std], resizeShorterSide: null };
}

/** The same preprocessing for a model whose first layer now takes RGB where it took BGR. */
export function asRgb(p: Preprocessing): Preprocessing {
  if (p.channelOrder !== 'BGR') return p;
  return { ...p, channelOrder: 'RGB', mean: [...p.mean].reverse(), std: [...p.std].reverse() };
}

/**
 * Model input (NHWC values, one image) from RGB or RGBA bytes already resized to the input size.
 * `bytesPerPixel` is 3 (RGB) or 4 (RGBA; alpha ignored).
 */
export function pixelsToInput(pixels: Uint8Array, width: number, height: number, bytesPerPixel: 3 | 4, p: Preprocessing): Float32Array {
  if (pixels.length !== width * height * bytesPerPixel) throw new Error(`pixelsToInput: expected ${width * height * bytesPerPixel} bytes for ${width}x${height}, got ${pixels.length}`);
  const channels = p.channelOrder === 'gray' ? 1 : 3;
  const out = new Float32Array(width * height * channels);
  const order = p.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < width * height; i++) {
    const px = i * bytesPerPixel;
    if (channels === 1) {
      const v = (pixels[px] + pixels[px + 1] + pixels[px + 2]) / 3;
      out[i] = (v * p.scale - p.mean[0]) / p.std[0];
    } else {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = (pixels[px + order[c]] * p.scale - p.mean[c]) / p.std[c];
    }
  }
  return out;
}

/**
 * The same preprocessing as data/preprocess's Preprocessor ((pixel - mean) * scale, one scale for all
 * channels), which inspection reads from model.json's userDefinedMetadata; null where it cannot say it
 * exactly (per-channel std as in torchvision's normalisation, BGR input, or grey from RGB).
 */
export function toDataPreprocessor(p: Preprocessing, input: [number, number, number]): Preprocessor | null {
  if (p.channelOrder !== 'RGB' || p.std.some((s) => s !== p.std[0])) return null;
  const scale = p.scale / p.std[0];
  const mean = p.mean.map((m) => m / p.scale);
  const zeroMean = mean.every((m) => m === 0);
  const kind = zeroMean ? (scale === 1 ? 'raw' : 'scale') : 'mean-pixel';
  return { version: 1, kind, shape: input, mean: zeroMean ? [] : mean, scale, fittedOn: null };
}


/** The 1000 ImageNet class names in output order, e.g. 'tench, Tinca tinca' (from resources/imagenet/synset_words.txt). */
export async function imagenetClassNames(): Promise<string[]> {
  const lines = (await readFile(path.join(resourcesDir(), 'imagenet', 'synset_words.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1000) throw new Error(`resources/imagenet/synset_words.txt has ${lines.length} classes, expected 1000`);
  return lines.map((l) => l.slice(l.indexOf(' ') + 1).trim());
}
