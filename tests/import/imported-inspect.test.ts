// Inspecting an imported model folder applies its model-info.json exactly (per-channel mean and std, channel
// order, shorter side then centre crop, class names), through the same resolver as every other model
// (the CLI's resolveModel) and through the engine's handlers (the UI's path). The test preprocesses the
// image by hand with sharp and the documented formula, runs the model, and compares every layer.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { importModel, MODEL_INFO_JSON, saveImportedModel, type ImportedModelInfo } from '../../src-main/engine/import';
import { classLabel, inspectImage, resolveModel } from '../../src-main/engine/inspect';
import { resizedSize } from '../../src-main/engine/inspect/imported-input';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { call } from '../engine/handlers-support';
import { maxAbsDiff } from '../support/arrays';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/import/alexnet-torchvision-zoo.onnx');
const W0 = 300;
const H0 = 260;

let scratch: string;
let torchDir: string;
let bgrDir: string;
let png: Buffer;
let engine: Engine;

/** A 300x260 RGB photo stand-in: smooth colour ramps plus a seeded texture, so every crop offset and channel shows. */
async function photo(): Promise<Buffer> {
  const raw = Buffer.alloc(W0 * H0 * 3);
  let seed = 7;
  for (let y = 0; y < H0; y++) {
    for (let x = 0; x < W0; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) % 40;
      const i = (y * W0 + x) * 3;
      raw[i] = (x * 255) / W0 * 0.8 + noise;
      raw[i + 1] = (y * 255) / H0 * 0.8 + noise;
      raw[i + 2] = ((x + y) % 64) * 3 + noise;
    }
  }
  return sharp(raw, { raw: { width: W0, height: H0, channels: 3 } }).png().toBuffer();
}

/** The documented preprocessing done by hand: torchvision's Resize(side) + CenterCrop(224), then per channel (v * scale - mean) / std. */
async function byHand(info: ImportedModelInfo, resized: [number, number], crop: [number, number]): Promise<Float32Array> {
  const p = info.preprocessing;
  const { data } = await sharp(png).resize(resized[0], resized[1], { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const [left, top] = crop;
  const out = new Float32Array(224 * 224 * 3);
  const source = p.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let y = 0; y < 224; y++) {
    for (let x = 0; x < 224; x++) {
      for (let c = 0; c < 3; c++) out[(y * 224 + x) * 3 + c] = (data[((top + y) * resized[0] + left + x) * 3 + source[c]] * p.scale - p.mean[c]) / p.std[c];
    }
  }
  return out;
}

/** Every layer's output for an input, computed with the model directly. */
function allLayers(model: tf.LayersModel, values: Float32Array): Map<string, Float32Array> {
  const layers = model.layers.slice(1);
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  const x = tf.tensor4d(values, [1, 224, 224, 3]);
  const outs = probe.predict(x) as tf.Tensor[];
  const result = new Map(layers.map((l, i) => [l.name, outs[i].dataSync().slice() as Float32Array]));
  tf.dispose([x, ...outs]);
  return result;
}


beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-imported-inspect-'));
  png = await photo();
  const imported = await importModel(FIXTURE);
  torchDir = path.join(scratch, 'torchvision');
  await saveImportedModel(imported, torchDir);
  imported.model.dispose();
  // The same weights with another preprocessing: BGR input, uneven mean and std, shorter side 250, own class names.
  bgrDir = path.join(scratch, 'bgr');
  await cp(torchDir, bgrDir, { recursive: true });
  const info = JSON.parse(await readFile(path.join(bgrDir, MODEL_INFO_JSON), 'utf8')) as ImportedModelInfo;
  info.preprocessing = { ...info.preprocessing, channelOrder: 'BGR', mean: [0.3, 0.5, 0.7], std: [0.2, 0.6, 1.3], resizeShorterSide: 250 };
  info.classNames = Array.from({ length: 10 }, (_, i) => `kind ${i}`);
  await writeFile(path.join(bgrDir, MODEL_INFO_JSON), JSON.stringify(info));
  engine = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu' });
});

afterAll(async () => {
  await engine?.shutdown();
  await rm(scratch, { recursive: true, force: true });
});

describe('inspecting an imported model folder', () => {
  // 300x260 -> shorter side 256: 295x256 (torchvision truncates 295.38), crop (295-224)/2 = 35.5 -> 36 (round half to even), 16.
  // 300x260 -> shorter side 250: 288x250, crop 32, 13.
  it.each([
    ['torchvision normalisation (RGB, per-channel mean and std, shorter side 256)', () => torchDir, [295, 256], [36, 16]],
    ['BGR input, uneven mean and std, shorter side 250, class names from model-info.json', () => bgrDir, [288, 250], [32, 13]],
  ] as const)('applies %s exactly, as the manual preprocessing + predict', async (_, dir, resized, crop) => {
    expect(resizedSize(W0, H0, 224, 224, resized[1])).toEqual({ width: resized[0], height: resized[1] });
    const before = tf.memory().numTensors;
    const resolved = await resolveModel(dir());
    const info = resolved.source.kind === 'model-folder' ? resolved.source.imported : null;
    expect(info?.zoo?.id).toBe('alexnet-torchvision');
    expect(resolved.input).toEqual([224, 224, 3]);
    expect(resolved.prepare.description).toContain(`${info!.preprocessing.channelOrder}, `);

    const expectedInput = await byHand(info!, [...resized], [...crop]);
    const expected = allLayers(resolved.model, expectedInput);
    const inspection = await inspectImage(resolved, png, { topK: 3 });
    expect(inspection.input.pixelShape).toEqual([224, 224, 3]);
    expect(maxAbsDiff(inspection.input.values, expectedInput)).toBeLessThan(1e-6);
    expect(inspection.layers.map((l) => l.name)).toEqual([...expected.keys()]);
    for (const layer of inspection.layers) expect(maxAbsDiff(layer.values, expected.get(layer.name)!), layer.name).toBeLessThan(1e-5);
    const probs = expected.get('fc8')!;
    const top = inspection.predictions[0];
    expect(top.prob).toBeCloseTo(Math.max(...probs), 6);
    expect(top.label).toBe(classLabel(top.index, info!.classNames));
    resolved.model.dispose();
    expect(tf.memory().numTensors).toBe(before);

    // The engine's handlers (what the app and the web UI call) take the same path.
    const opened = await call(engine.handlers, 'openModel', { path: dir() });
    expect(opened.format).toBe('imported ONNX model');
    expect(opened.classNames).toEqual(info!.classNames);
    const result = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: new Uint8Array(png) }, model: opened.ref, options: { topK: 1 } });
    expect(maxAbsDiff(result.input.data as Float32Array, expectedInput)).toBeLessThan(1e-6);
    const conv1 = result.layers.find((l) => l.name === 'conv1')!;
    expect(maxAbsDiff(conv1.output.data as Float32Array, expected.get('conv1')!)).toBeLessThan(1e-5);
  });

  it('differs from the folder read without its model-info.json (pixels / 255): the preprocessing really is applied', async () => {
    const plain = path.join(scratch, 'plain');
    await cp(torchDir, plain, { recursive: true });
    await rm(path.join(plain, MODEL_INFO_JSON));
    const resolved = await resolveModel(plain);
    expect(resolved.source).toEqual({ kind: 'model-folder', dir: plain });
    const inspection = await inspectImage(resolved, png);
    const info = JSON.parse(await readFile(path.join(torchDir, MODEL_INFO_JSON), 'utf8')) as ImportedModelInfo;
    expect(maxAbsDiff(inspection.input.values, await byHand(info, [295, 256], [36, 16]))).toBeGreaterThan(1);
    resolved.model.dispose();
  });
});
