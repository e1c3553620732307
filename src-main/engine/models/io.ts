// Model folders: model.json (tfjs "layers-model" format) + weights.bin, written atomically, read back
// through tf.io.fromMemory (pure tfjs has no file:// handler).
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import { writeFileAtomic } from '../train/atomic';
import { ModelFileError } from './errors';
import './layers'; // registers GroupedConv2D and LocalResponseNormalization for deserialization

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface SavedModelInfo {
  modelJsonPath: string;
  weightsPath: string;
  weightBytes: number;
}

type WeightsEntry = tf.io.WeightsManifestEntry;

/**
 * Writes model.json and weights.bin into dir (created if needed). Each file is written to a temporary
 * name and renamed, weights first, so a model.json on disk always describes complete weights.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<SavedModelInfo> {
  await mkdir(dir, { recursive: true });
  const modelJsonPath = path.join(dir, MODEL_JSON);
  const weightsPath = path.join(dir, WEIGHTS_BIN);
  let weightBytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []));
      weightBytes = weights.byteLength;
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFileAtomic(weightsPath, weights);
      await writeFileAtomic(modelJsonPath, new TextEncoder().encode(JSON.stringify(json)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return { modelJsonPath, weightsPath, weightBytes };
}

/** Loads a folder written by saveModel (or any tfjs layers-model folder with its weight files beside it). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelJson = await readModelJson(dir);
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(dir, manifest));
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new ModelFileError(`cannot rebuild the model in ${dir}: ${(err as Error).message}`);
  }
}

async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new ModelFileError(`no model folder at ${dir}`);
  const jsonPath = path.join(dir, MODEL_JSON);
  const text = await readFile(jsonPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ModelFileError(`${dir} has no ${MODEL_JSON}`);
    throw err;
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(`${jsonPath} is not valid JSON: ${(err as Error).message}`);
  }
  const j = json as Partial<tf.io.ModelJSON>;
  if (typeof j !== 'object' || j === null || typeof j.modelTopology !== 'object' || j.modelTopology === null || !Array.isArray(j.weightsManifest)) {
    throw new ModelFileError(`${jsonPath} is not a tfjs layers model (it needs modelTopology and weightsManifest)`);
  }
  return j as tf.io.ModelJSON;
}

async function readWeights(dir: string, manifest: tf.io.WeightsManifestConfig): Promise<[WeightsEntry[], ArrayBuffer[]]> {
  const specs: WeightsEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    const expected = group.weights.reduce((sum, w) => sum + weightBytes(w), 0);
    let actual = 0;
    for (const rel of group.paths) {
      const file = path.resolve(dir, rel);
      if (path.relative(path.resolve(dir), file).startsWith('..')) throw new ModelFileError(`${MODEL_JSON} in ${dir} names a weights file outside the folder: ${rel}`);
      const data = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new ModelFileError(`${MODEL_JSON} in ${dir} needs the weights file ${rel}, which is missing`);
        throw err;
      });
      buffers.push(data);
      actual += data.byteLength;
    }
    if (actual !== expected) {
      throw new ModelFileError(`weights file ${group.paths.join(', ')} in ${dir} has ${actual} bytes but ${MODEL_JSON} describes ${expected} bytes (truncated or from another model)`);
    }
  }
  return [specs, buffers.map(ownBuffer)];
}

/** The bytes as an ArrayBuffer of their own (no copy when the view already spans its whole buffer). */
function ownBuffer(b: Uint8Array): ArrayBuffer {
  const whole = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
  return (whole ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) as ArrayBuffer;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function weightBytes(w: WeightsEntry): number {
  const dtype = w.quantization?.dtype ?? w.dtype;
  const size = BYTES[dtype];
  if (size === undefined) throw new ModelFileError(`weight ${w.name} has dtype ${dtype}, which this app cannot read`);
  return w.shape.reduce((a, b) => a * b, 1) * size;
}
