// TensorFlow.js LayersModel files (model.json + weight shards) -> a loaded model, through the models
// module's one loader of layers-model JSON files (shard paths kept inside the file's folder, size limit).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { tf } from '../tf';
import { loadLayersModelJson } from '../models/rebuild';
import { ImportFileError, UnsupportedModelError } from './errors';

/** Loads a layers-model JSON (a path to the .json, or a folder holding model.json) with the weight files it names. */
export async function readTfjsModel(file: string): Promise<{ model: tf.LayersModel; jsonPath: string }> {
  const jsonPath = (await stat(file)).isDirectory() ? path.join(file, 'model.json') : file;
  const text = await readFile(jsonPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ImportFileError(`${jsonPath} does not exist`);
    throw err;
  });
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ImportFileError(`${jsonPath} is not valid JSON (${(err as Error).message})`);
  }
  if (json?.format === 'graph-model') {
    throw new UnsupportedModelError(`${jsonPath} is a TensorFlow.js graph model (converted from a SavedModel or frozen graph); ConvScope needs a LayersModel (converted from Keras) to show its layers`);
  }
  if (typeof json?.modelTopology !== 'object' || json.modelTopology === null || !Array.isArray(json.weightsManifest)) {
    throw new ImportFileError(`${jsonPath} is not a TensorFlow.js LayersModel (it needs modelTopology and weightsManifest)`);
  }
  const model = await loadLayersModelJson(jsonPath, json, jsonPath);
  const shape = model.inputs.length === 1 ? model.inputs[0].shape : [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || shape.length !== 4 || shape.slice(1).some((d) => !(typeof d === 'number' && d > 0))) {
    const inputs = model.inputs.map((i) => i.shape.map((d) => d ?? '?').join('x')).join(', ');
    model.dispose();
    throw new UnsupportedModelError(`${jsonPath}: ConvScope imports models with one height x width x channels image input of fixed size and one output (inputs: ${inputs})`);
  }
  return { model, jsonPath };
}
