// model-info.json: what an imported model needs besides its layers and weights (input size, preprocessing,
// class names, where it came from). Written beside model.json + weights.bin.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OptionValue } from '../models/spec';
import { ImportFileError } from './errors';
import { PRESET_NAMES, type Preprocessing } from './preprocess';

export const MODEL_INFO_JSON = 'model-info.json';

export interface ImportedModelInfo {
  format: 'convscope-model-info';
  version: 1;
  /** The tfjs model's name: the zoo id when the graph matched a zoo model, else from the file name. */
  name: string;
  /** `externalData`: ONNX external data files read, relative to the model's folder. */
  source: { format: 'onnx' | 'caffe' | 'tfjs'; file: string; prototxt?: string; producer?: string; opset?: number; externalData?: string[] };
  /** Set when the graph is exactly a zoo model: its id and options, and the constants taken from the source. */
  zoo: { id: string; options: Record<string, OptionValue>; patched: string[] } | null;
  input: { height: number; width: number; channels: number };
  preprocessing: Preprocessing & { basis: string };
  output: { classes: number; softmax: boolean };
  classNames: string[] | null;
  notes: string[];
}

/** Reads and checks dir/model-info.json; null when the folder has none (a model not made by import). */
export async function readModelInfo(dir: string): Promise<ImportedModelInfo | null> {
  const file = path.join(dir, MODEL_INFO_JSON);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  let info: ImportedModelInfo;
  try {
    info = JSON.parse(text) as ImportedModelInfo;
  } catch (err) {
    throw new ImportFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const p = info?.preprocessing;
  const ok =
    info?.format === 'convscope-model-info' &&
    info.version === 1 &&
    [info.input?.height, info.input?.width, info.input?.channels].every((d) => Number.isInteger(d) && d > 0) &&
    PRESET_NAMES.includes(p?.preset) &&
    typeof p.scale === 'number' &&
    Array.isArray(p.mean) && Array.isArray(p.std) && p.mean.length === p.std.length &&
    (info.classNames === null || (Array.isArray(info.classNames) && info.classNames.length === info.output?.classes));
  if (!ok) throw new ImportFileError(`${file} is not a ConvScope model-info file (version 1) or is inconsistent`);
  return info;
}
