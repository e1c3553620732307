// TensorFlow.js LayersModel files (model.json + weight shards) -> a loaded model.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import '../models/layers'; // registers GroupedConv2D and LocalResponseNormalization
import { ImportFileError, UnsupportedModelError } from './errors';

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

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
  const dir = path.dirname(jsonPath);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      const expected = group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? NaN), 0);
      let actual = 0;
      for (const rel of group.paths) {
        const data = await readFile(path.resolve(dir, rel)).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') throw new ImportFileError(`${jsonPath} needs the weights file ${rel}, which is missing`);
          throw err;
        });
        actual += data.byteLength;
        buffers.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
      }
      if (actual !== expected) throw new ImportFileError(`weights ${group.paths.join(', ')} hold ${actual} bytes but ${path.basename(jsonPath)} describes ${expected} (truncated or from another model)`);
    }
    return [specs, buffers];
  });
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    const msg = (err as Error).message;
    if (/Unknown layer/i.test(msg)) throw new UnsupportedModelError(`${jsonPath}: ${msg.split('\n')[0]} (a custom layer class ConvScope does not have)`);
    throw new ImportFileError(`${jsonPath}: cannot rebuild the model (${msg.split('\n')[0]})`);
  }
  const shape = model.inputs.length === 1 ? model.inputs[0].shape : [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || shape.length !== 4 || shape.slice(1).some((d) => !(typeof d === 'number' && d > 0))) {
    const inputs = model.inputs.map((i) => i.shape.map((d) => d ?? '?').join('x')).join(', ');
    model.dispose();
    throw new UnsupportedModelError(`${jsonPath}: ConvScope imports models with one height x width x channels image input of fixed size and one output (inputs: ${inputs})`);
  }
  return { model, jsonPath };
}
