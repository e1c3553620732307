// The engine's handlers for models, inspection and the system, called as the host calls them (params and
// results checked against the contract) on the cpu backend: the zoo, summaries, a model.json written by
// saveModel, an ONNX file, one PNG through LeNet-5, kernels, the model cache, errors that leave the engine usable.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { buildModel, countParams, getModelSpec, saveModel } from '../../src-main/engine/models';
import { preset, pixelsToInput } from '../../src-main/engine/import';
import { applyPreprocessor } from '../../src-main/engine/data/preprocess';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { datasetPreprocessor as preprocessorOfImport } from '../../src-main/engine/inspect/imported-input';
import { call, expectCode, failure } from './handlers-support';

const ONNX_LENET = path.resolve(import.meta.dirname, '../fixtures/import/lenet5.onnx');
const LENET: { kind: 'zoo'; id: string; overrides: Record<string, string | number | boolean> } = { kind: 'zoo', id: 'lenet5', overrides: {} };

let scratch: string;
let engine: Engine;
let digit: Uint8Array<ArrayBuffer>;
let digitPixels: Buffer;

/** A 28x28 grey "1": a bright vertical stroke on black, as MNIST draws digits. */
async function digitPng(): Promise<{ png: Uint8Array<ArrayBuffer>; pixels: Buffer }> {
  const pixels = Buffer.alloc(28 * 28);
  for (let y = 5; y < 23; y++) for (let x = 12; x < 16; x++) pixels[y * 28 + x] = 200 + x;
  const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
  return { png: new Uint8Array(png), pixels };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-handlers-models-'));
  engine = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu' });
  ({ png: digit, pixels: digitPixels } = await digitPng());
});

afterAll(async () => {
  await engine.shutdown();
  await rm(scratch, { recursive: true, force: true });
});

describe('models', () => {
  it('lists the zoo and summarises AlexNet from its spec with the paper count', async () => {
    const { models } = await call(engine.handlers, 'listModels', {});
    expect(models.map((m) => m.id)).toEqual(['lenet5', 'alexnet', 'alexnet-blog', 'alexnet-torchvision']);
    const alexnet = models.find((m) => m.id === 'alexnet')!;
    expect(alexnet.input).toEqual([227, 227, 3]);
    expect(alexnet.classes).toBe(1000);
    expect(alexnet.options.find((o) => o.key === 'grouped')).toMatchObject({ accepts: 'true or false', default: true });

    const before = tf.memory().numTensors;
    const summary = await call(engine.handlers, 'summary', { model: { kind: 'zoo', id: 'alexnet', overrides: {} } });
    expect(summary.totalParams).toBe(60_965_224);
    expect(summary.trainableParams).toBe(60_965_224);
    expect(summary.layers.find((l) => l.name === 'conv2')).toMatchObject({ type: 'GroupedConv2D', kind: 'conv', activation: 'relu', params: 307_456 });
    expect(tf.memory().numTensors).toBe(before); // no weights built for a zoo summary

    const ungrouped = await call(engine.handlers, 'summary', { model: { kind: 'zoo', id: 'alexnet', overrides: { grouped: false } } });
    expect(ungrouped.totalParams).toBe(62_378_344);
    expect((await call(engine.handlers, 'summary', { model: LENET })).totalParams).toBe(44_426);
  });

  it('refuses an unknown model or option with the engine reason, and the next request works', async () => {
    expectCode(await failure(engine.handlers, 'summary', { model: { kind: 'zoo', id: 'vgg16', overrides: {} } }), 'user-error', 'unknown-model');
    const bad = await failure(engine.handlers, 'summary', { model: { kind: 'zoo', id: 'lenet5', overrides: { grouped: false } } });
    expectCode(bad, 'user-error', 'bad-override');
    expect(bad.message).toMatch(/'grouped' does not apply to lenet5/);
    expectCode(await failure(engine.handlers, 'openModel', { path: path.join(scratch, 'missing') }), 'not-found');
    expect((await call(engine.handlers, 'summary', { model: LENET })).layers).toHaveLength(8);
  });

  it('opens a model.json written by saveModel, with its class names, and inspects with its weights', async () => {
    const model = buildModel(getModelSpec('lenet5'), { seed: 7 });
    const names = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    model.setUserDefinedMetadata({ classNames: names });
    const dir = path.join(scratch, 'saved');
    await saveModel(model, dir);

    const opened = await call(engine.handlers, 'openModel', { path: path.join(dir, 'model.json') });
    expect(opened.ref).toEqual({ kind: 'file', path: path.join(dir, 'model.json') });
    expect(opened.format).toBe('tfjs layers model');
    expect(opened.summary.totalParams).toBe(44_426);
    expect(opened.input).toEqual([28, 28, 1]);
    expect(opened.classNames).toEqual(names);

    const result = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: opened.ref, options: { topK: 10 } });
    const expected = tf.tidy(() => model.predict(tf.tensor4d(Float32Array.from(digitPixels, (v) => v / 255), [1, 28, 28, 1])) as tf.Tensor).dataSync();
    for (const p of result.predictions) {
      expect(p.label).toBe(names[p.index]);
      expect(p.prob).toBeCloseTo(expected[p.index], 5);
    }
    model.dispose();
  });

  it("opens an ONNX file through the importer and inspects it with its preprocessing (a grey PyTorch export: pixels / 255, ToTensor's scale)", async () => {
    const opened = await call(engine.handlers, 'openModel', { path: ONNX_LENET });
    expect(opened.format).toBe('ONNX');
    expect(opened.ref).toEqual({ kind: 'file', path: ONNX_LENET });
    expect(opened.summary.totalParams).toBe(44_426);
    expect(opened.input).toEqual([28, 28, 1]);
    const result = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: opened.ref });
    expect(Array.from(result.input.data)).toEqual(Array.from(digitPixels, (v) => Math.fround(v / 255)));
  });
});

describe('an imported model preprocessing as an inspection preprocessor', () => {
  const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => (i * 37) % 256);
  const rgba = (p: Uint8Array) => Uint8Array.from({ length: 16 }, (_, i) => (i % 4 === 3 ? 255 : p[Math.floor(i / 4) * 3 + (i % 4)]));

  it('is exact for the Caffe convention once the channels are RGB, and names what it approximates', () => {
    const caffe = { ...preset('caffe-imagenet', 3), channelOrder: 'RGB' as const, mean: [...preset('caffe-imagenet', 3).mean].reverse() };
    const { preprocessor, notes } = preprocessorOfImport(caffe, [2, 2, 3]);
    expect(preprocessor.kind).toBe('mean-pixel');
    const ours = applyPreprocessor(preprocessor, pixels, 1);
    const theirs = pixelsToInput(rgba(pixels), 2, 2, 4, caffe);
    ours.forEach((v, i) => expect(v).toBeCloseTo(theirs[i], 4));
    expect(notes).toEqual([expect.stringMatching(/shorter side to 2 .* made for 256/)]);

    const torch = preprocessorOfImport(preset('torchvision-imagenet', 3), [224, 224, 3]);
    expect(torch.notes.some((n) => /mean of the model's per-channel std \(0.229, 0.224, 0.225\)/.test(n))).toBe(true);
    expect(preprocessorOfImport(preset('none', 1), [28, 28, 1])).toEqual({
      preprocessor: { version: 1, kind: 'raw', shape: [28, 28, 1], mean: [], scale: 1, fittedOn: null },
      notes: [],
    });
  });
});

describe('inspect', () => {
  it('returns every layer of LeNet-5 as Float32Array tensors with their shapes, predictions, saliency and Grad-CAM', async () => {
    const r = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit, name: 'one.png' }, model: LENET, options: { saliency: true, gradCam: true, topK: 3 } });
    expect(r.input.shape).toEqual([28, 28, 1]);
    expect(r.input.data).toBeInstanceOf(Float32Array);
    expect(r.input.data[5 * 28 + 12]).toBeCloseTo(212 / 255, 6);
    expect(r.image).toEqual({ width: 28, height: 28, channels: 1 });
    expect(r.layers.map((l) => [l.name, l.output.shape])).toEqual([
      ['conv1', [24, 24, 6]],
      ['pool1', [12, 12, 6]],
      ['conv2', [8, 8, 16]],
      ['pool2', [4, 4, 16]],
      ['flatten', [256]],
      ['fc1', [120]],
      ['fc2', [84]],
      ['fc3', [10]],
    ]);
    for (const l of r.layers) {
      expect(l.output.data).toBeInstanceOf(Float32Array);
      expect(l.stats.max).toBe(Math.max(...l.output.data));
    }
    const fc3 = r.layers.at(-1)!;
    expect(fc3).toMatchObject({ className: 'Dense', kind: 'dense', activation: 'softmax' });
    expect(r.layers[0].activation).toBe('tanh');
    expect(r.predictions).toHaveLength(3);
    expect(r.predictions[0].prob).toBe(Math.max(...fc3.output.data));
    expect(r.predictions[0].label).toBe(`class ${r.predictions[0].index}`);
    expect(r.saliency).toMatchObject({ classIndex: r.predictions[0].index, score: 'logit', map: { shape: [28, 28] } });
    expect(r.gradCam).toMatchObject({ layer: 'conv2', classIndex: r.predictions[0].index, map: { shape: [8, 8] }, upsampled: { shape: [28, 28] } });
  });

  it('reads an image by path, keeps only the layers asked for and refuses a layer the model lacks', async () => {
    const file = path.join(scratch, 'one.png');
    await writeFile(file, digit);
    const r = await call(engine.handlers, 'inspect', { image: { kind: 'path', path: file }, model: LENET, options: { layers: ['conv2', 'fc3'], gradCam: { layer: 'conv1' }, classIndex: 4 } });
    expect(r.layers.map((l) => l.name)).toEqual(['conv2', 'fc3']);
    expect(r.gradCam).toMatchObject({ layer: 'conv1', classIndex: 4, map: { shape: [24, 24] } });
    expect(r.saliency).toBeNull();
    const e = await failure(engine.handlers, 'inspect', { image: { kind: 'path', path: file }, model: LENET, options: { layers: ['conv9'] } });
    expectCode(e, 'user-error', 'bad-layer');
    expect(e.message).toMatch(/no layer 'conv9'.*conv1, pool1/);
  });

  it('answers a bad image with a clear error and the next good one normally', async () => {
    const bad = await failure(engine.handlers, 'inspect', { image: { kind: 'bytes', data: new TextEncoder().encode('not a picture'), name: 'notes.txt' }, model: LENET });
    expectCode(bad, 'user-error', 'not-an-image');
    expect(bad.message).toMatch(/notes\.txt/);
    const truncated = await failure(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit.subarray(0, 40) }, model: LENET });
    expect(truncated.code).toBe('user-error');
    const good = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: LENET });
    expect(good.layers).toHaveLength(8);
  });

  it('keeps the model built between inspections without leaking tensors', async () => {
    await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: LENET, options: { saliency: true, gradCam: true } });
    const tensors = tf.memory().numTensors;
    const first = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: LENET });
    for (let i = 0; i < 4; i++) {
      const again = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: digit }, model: LENET, options: { saliency: true, gradCam: true } });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(again.layers[0].output.data).toEqual(first.layers[0].output.data); // the same (cached) weights
    }
  });
});

describe('kernels and the model cache', () => {
  it("returns conv kernels [kh, kw, in, out] as copies the caller may keep", async () => {
    const { layers } = await call(engine.handlers, 'kernels', { model: LENET });
    expect(layers.map((l) => [l.layer, l.kernel.shape])).toEqual([
      ['conv1', [5, 5, 1, 6]],
      ['conv2', [5, 5, 6, 16]],
    ]);
    const kept = Float32Array.from(layers[0].kernel.data);
    layers[0].kernel.data.fill(0); // what a transfer would do to a shared array
    const again = await call(engine.handlers, 'kernels', { model: LENET, layer: 'conv1' });
    expect(again.layers).toHaveLength(1);
    expect(again.layers[0].kernel.data).toEqual(kept);
    expectCode(await failure(engine.handlers, 'kernels', { model: LENET, layer: 'fc1' }), 'user-error', 'bad-layer');
  });

  it('disposes the least recently used model when the cache is full', async () => {
    const small = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu', modelCacheSize: 1 });
    const bytes = (overrides: Record<string, number>) => 4 * countParams(getModelSpec('lenet5', overrides)).total;
    const base = tf.memory().numBytes;
    await call(small.handlers, 'kernels', { model: LENET });
    expect(tf.memory().numBytes - base).toBe(bytes({}));
    await call(small.handlers, 'kernels', { model: { kind: 'zoo', id: 'lenet5', overrides: { width: 0.5 } } });
    expect(tf.memory().numBytes - base).toBe(bytes({ width: 0.5 }));
    await small.shutdown();
    expect(tf.memory().numBytes).toBe(base);
  });
});

describe('system', () => {
  it('reports the backend it started once, and the built-in datasets', async () => {
    const info = await call(engine.handlers, 'backendInfo', {});
    expect(info).toMatchObject({ requested: 'cpu', chosen: 'cpu', tfBackend: 'cpu', skipped: [] });
    expect(info.versions.tfjs).toBe(tf.version.tfjs);
    expect(info.description).toMatch(/^cpu, plain JavaScript/);
    expect(tf.getBackend()).toBe('cpu');

    const { datasets } = await call(engine.handlers, 'listDatasets', {});
    expect(datasets.map((d) => d.id)).toEqual(['mnist', 'fashion-mnist']);
    expect(datasets[0]).toEqual({ id: 'mnist', title: 'MNIST', available: true, classes: 10, shape: [28, 28, 1], trainSize: 60_000, testSize: 10_000, note: null });
    const fashion = datasets[1];
    if (!fashion.available) expect(fashion.note).toMatch(/apt-get install dataset-fashion-mnist/);
    else expect(fashion.note).toBeNull();
  });
});
