// Model folders: model.json (tfjs "layers-model" format) + weights.bin, written atomically, read back
// through tf.io.fromMemory (pure tfjs has no file:// handler).
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import { writeFileAtomic } from '../train/atomic';
import { ModelFileError } from './errors';
import { loadLayersModelJson } from './rebuild';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface SavedModelInfo {
  modelJsonPath: string;
  weightsPath: string;
  weightBytes: number;
}

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
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new ModelFileError(`no model folder at ${dir}`);
  const jsonPath = path.join(dir, MODEL_JSON);
  const modelJson = await readModelJson(jsonPath, `${dir} has no ${MODEL_JSON}`);
  return loadLayersModelJson(jsonPath, modelJson, `the model in ${dir}`);
}

/** Parses a layers-model JSON file; `missing` is the message when it does not exist. */
export async function readModelJson(jsonPath: string, missing: string): Promise<tf.io.ModelJSON> {
  const text = await readFile(jsonPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ModelFileError(missing);
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
