// Files that are not what they claim, truncated or of another format: one clear error each. TensorFlow.js
// LayersModels, format sniffing, preprocessing numbers and the ImageNet class list.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { ImportFileError, UnsupportedModelError, importModel, imagenetClassNames, pixelsToInput, preset, saveImportedModel } from '../../src-main/engine/import';
import { buildModel, getModelSpec, saveModel } from '../../src-main/engine/models';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
let scratch: string;
let onnxBytes: Buffer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-import-files-'));
  onnxBytes = await readFile(path.join(FIXTURES, 'lenet5.onnx'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function file(name: string, data: Uint8Array | string): Promise<string> {
  const p = path.join(scratch, name);
  await writeFile(p, data);
  return p;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => null, (e: Error) => e);
  if (!err) throw new Error('expected the import to fail');
  return err;
}

describe('bad files', () => {
  it('names a missing file, an empty one and a .prototxt given as the model', async () => {
    expect((await failure(importModel(path.join(scratch, 'nope.onnx')))).message).toMatch(/nope\.onnx does not exist/);
    expect((await failure(importModel(await file('empty.onnx', new Uint8Array(0))))).message).toMatch(/empty\.onnx is empty/);
    expect((await failure(importModel(await file('deploy.prototxt', 'name: "x"')))).message).toMatch(/give the \.caffemodel weights as FILE and this file with --prototxt/);
  });

  it('reports a truncated ONNX file as truncated, whatever the cut', async () => {
    for (const fraction of [0.1, 0.5, 0.97]) {
      const err = await failure(importModel(await file(`cut-${fraction}.onnx`, onnxBytes.subarray(0, Math.floor(onnxBytes.length * fraction)))));
      expect(err).toBeInstanceOf(ImportFileError);
      expect(err.message).toMatch(/truncated/);
    }
  });

  it('refuses random bytes and text under a model extension', async () => {
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    for (const [name, data] of [['noise.onnx', noise], ['text.onnx', 'hello, this is not a model\n'.repeat(20)], ['noise.caffemodel', noise]] as const) {
      const err = await failure(importModel(await file(name, data)));
      expect(err).toBeInstanceOf(ImportFileError);
      expect(err.message).toMatch(/^(noise|text)\.(onnx|caffemodel) (is not (a readable |an? )(ONNX|Caffe) model|holds no weights)/);
    }
  });

  it('refuses an ONNX model named .caffemodel with a Caffe error', async () => {
    const err = await failure(importModel(await file('lenet.caffemodel', onnxBytes)));
    expect(err).toBeInstanceOf(ImportFileError);
    expect(err.message).toMatch(/lenet\.caffemodel/);
  });

  it('sniffs the format when the extension says nothing', async () => {
    const { model, info } = await importModel(await file('lenet5.bin', onnxBytes));
    expect(info.source.format).toBe('onnx');
    model.dispose();
    const err = await failure(importModel(await file('mystery.bin', Uint8Array.from({ length: 256 }, (_, i) => (i * 97) % 251))));
    expect(err.message).toMatch(/neither an ONNX model, a Caffe model nor a TensorFlow\.js model\.json/);
  });
});

describe('TensorFlow.js LayersModels', () => {
  it('imports a layers-model folder (custom layers included) with identical outputs', async () => {
    const spec = getModelSpec('alexnet', { width: 0.0625, input: '67x67x3', classes: 5 });
    const original = buildModel(spec, { seed: 3 });
    const dir = path.join(scratch, 'tfjs-alexnet');
    await saveModel(original, dir);
    // Any .json name works, with the weights it names beside it.
    await rename(path.join(dir, 'model.json'), path.join(dir, 'alexnet-small.json'));
    const { model, info } = await importModel(path.join(dir, 'alexnet-small.json'), { preprocess: 'torchvision-imagenet' });
    expect(info).toMatchObject({ name: 'alexnet', source: { format: 'tfjs', file: 'alexnet-small.json' }, input: { height: 67, width: 67, channels: 3 }, output: { classes: 5, softmax: true }, zoo: null });
    expect(info.preprocessing.preset).toBe('torchvision-imagenet');
    const x = tf.randomNormal([2, 67, 67, 3], 0, 1, 'float32', 9);
    const [a, b] = [original, model].map((m) => (m.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    const out = path.join(scratch, 'tfjs-reimported');
    await saveImportedModel({ model, info }, out);
    tf.dispose(x);
    original.dispose();
    model.dispose();
  });

  it('refuses graph models and missing weight files clearly', async () => {
    const graph = await file('graph-model.json', JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
    const err = await failure(importModel(graph));
    expect(err).toBeInstanceOf(UnsupportedModelError);
    expect(err.message).toMatch(/graph model .* needs a LayersModel/);
    const dir = path.join(scratch, 'no-weights');
    await mkdir(dir);
    const model = buildModel(getModelSpec('lenet5'), { seed: 1 });
    await saveModel(model, path.join(scratch, 'lenet-src'));
    model.dispose();
    await copyFile(path.join(scratch, 'lenet-src', 'model.json'), path.join(dir, 'model.json'));
    expect((await failure(importModel(dir))).message).toMatch(/needs the weights file weights\.bin, which is missing/);
  });
});

describe('preprocessing', () => {
  it('turns pixels into inputs as the metadata says (Caffe BGR mean, torchvision mean/std, gray)', () => {
    const rgba = new Uint8Array([255, 128, 0, 255, 10, 20, 30, 0]); // two pixels
    const caffe = pixelsToInput(rgba, 2, 1, 4, preset('caffe-imagenet', 3));
    expect(Array.from(caffe)).toEqual([0 - 104.00698793, 128 - 116.66876762, 255 - 122.67891434, 30 - 104.00698793, 20 - 116.66876762, 10 - 122.67891434].map(Math.fround));
    const tv = pixelsToInput(rgba.subarray(0, 4), 1, 1, 4, preset('torchvision-imagenet', 3));
    expect(tv[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(tv[1]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 5);
    expect(tv[2]).toBeCloseTo((0 - 0.406) / 0.225, 5);
    expect(Array.from(pixelsToInput(new Uint8Array([30, 60, 90]), 1, 1, 3, preset('none', 1)))).toEqual([60]);
  });

  it('ships the 1000 ImageNet class names in output order', async () => {
    const names = await imagenetClassNames();
    expect(names).toHaveLength(1000);
    expect(names[0]).toBe('tench, Tinca tinca');
    expect(names[1]).toBe('goldfish, Carassius auratus');
    expect(names[281]).toBe('tabby, tabby cat');
    expect(names[999]).toBe('toilet tissue, toilet paper, bathroom tissue');
  });
});
