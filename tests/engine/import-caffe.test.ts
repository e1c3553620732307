// Caffe models written by this test (caffemodel via protobufjs from caffe.proto's declarations, deploy
// prototxt as text): BVLC AlexNet's layout at 1/8 width with LRN and grouped convolutions, in the current
// and the V1 formats, checked against a plain-JS reference of Caffe's forward pass; and the errors for
// files that do not fit together.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { importModel, ImportFileError, pixelsToInput, UnsupportedModelError } from '../../src-main/engine/import';
import { applyPreprocessor, parsePreprocessor } from '../../src-main/engine/data/preprocess';
import { countParams, getModelSpec, layerKind, summarizeModel } from '../../src-main/engine/models';
import * as ref from '../fixtures/import/reference';
import { writeCaffemodel, writeCaffemodelV1, writePrototxt, type CaffeLayerDef } from '../fixtures/import/writers';

let scratch: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-import-caffe-'));
});

const LRN = { local_size: 5, alpha: 0.5, beta: 0.75, k: 1 }; // a large alpha, so that getting the convention wrong shows
const CLASSES = 10;

/** BVLC AlexNet's deploy layout (conv -> relu -> LRN -> pool ...) at 1/8 width: what the zoo's alexnet builds with width=0.125. */
function bvlcWeights(flatSize: number) {
  const next = ref.rng(2012);
  const he = (fanIn: number, n: number) => ref.randomArray(n, Math.sqrt(6 / fanIn), next);
  return {
    conv1: { w: he(3 * 121, 12 * 3 * 121), b: ref.randomArray(12, 0.1, next) },
    conv2: { w: he(6 * 25, 32 * 6 * 25), b: ref.randomArray(32, 0.1, next) },
    conv3: { w: he(32 * 9, 48 * 32 * 9), b: ref.randomArray(48, 0.1, next) },
    conv4: { w: he(24 * 9, 48 * 24 * 9), b: ref.randomArray(48, 0.1, next) },
    conv5: { w: he(24 * 9, 32 * 24 * 9), b: ref.randomArray(32, 0.1, next) },
    fc6: { w: he(flatSize, 512 * flatSize), b: ref.randomArray(512, 0.1, next) },
    fc7: { w: he(512, 512 * 512), b: ref.randomArray(512, 0.1, next) },
    fc8: { w: he(512, CLASSES * 512), b: ref.randomArray(CLASSES, 0.1, next) },
  };
}
type Weights = ReturnType<typeof bvlcWeights>;

function bvlcLayers(wt: Weights | null, flatSize: number): CaffeLayerDef[] {
  const conv = (name: string, bottom: string, m: number, cg: number, k: number, stride: number, pad: number, group: number): CaffeLayerDef => ({
    name, type: 'Convolution', bottom: [bottom], top: [name],
    params: { convolution_param: { num_output: m, kernel_size: [k], ...(stride > 1 ? { stride: [stride] } : {}), ...(pad ? { pad: [pad] } : {}), ...(group > 1 ? { group } : {}) } },
    blobs: wt ? [{ dims: [m, cg, k, k], values: wt[name as 'conv1'].w }, { dims: [m], values: wt[name as 'conv1'].b }] : undefined,
  });
  const fc = (name: string, bottom: string, n: number, k: number): CaffeLayerDef => ({
    name, type: 'InnerProduct', bottom: [bottom], top: [name], params: { inner_product_param: { num_output: n } },
    blobs: wt ? [{ dims: [n, k], values: wt[name as 'fc6'].w }, { dims: [n], values: wt[name as 'fc6'].b }] : undefined,
  });
  const relu = (n: string, blob: string): CaffeLayerDef => ({ name: n, type: 'ReLU', bottom: [blob], top: [blob] });
  const pool = (n: string, bottom: string): CaffeLayerDef => ({ name: n, type: 'Pooling', bottom: [bottom], top: [n], params: { pooling_param: { pool: 'MAX', kernel_size: 3, stride: 2 } } });
  const norm = (n: string, bottom: string): CaffeLayerDef => ({ name: n, type: 'LRN', bottom: [bottom], top: [n], params: { lrn_param: LRN } });
  const drop = (n: string, blob: string): CaffeLayerDef => ({ name: n, type: 'Dropout', bottom: [blob], top: [blob], params: { dropout_param: { dropout_ratio: 0.5 } } });
  return [
    conv('conv1', 'data', 12, 3, 11, 4, 0, 1), relu('relu1', 'conv1'), norm('norm1', 'conv1'), pool('pool1', 'norm1'),
    conv('conv2', 'pool1', 32, 6, 5, 1, 2, 2), relu('relu2', 'conv2'), norm('norm2', 'conv2'), pool('pool2', 'norm2'),
    conv('conv3', 'pool2', 48, 32, 3, 1, 1, 1), relu('relu3', 'conv3'),
    conv('conv4', 'conv3', 48, 24, 3, 1, 1, 2), relu('relu4', 'conv4'),
    conv('conv5', 'conv4', 32, 24, 3, 1, 1, 2), relu('relu5', 'conv5'), pool('pool5', 'conv5'),
    fc('fc6', 'pool5', 512, flatSize), relu('relu6', 'fc6'), drop('drop6', 'fc6'),
    fc('fc7', 'fc6', 512, 512), relu('relu7', 'fc7'), drop('drop7', 'fc7'),
    fc('fc8', 'fc7', CLASSES, 512),
    { name: 'prob', type: 'Softmax', bottom: ['fc8'], top: ['prob'] },
  ];
}

/** The caffemodel as Caffe's training writes it: the train net (data and loss layers, no blobs there) with the learned blobs. */
function trainNet(wt: Weights, flatSize: number): CaffeLayerDef[] {
  const layers = bvlcLayers(wt, flatSize).filter((l) => l.type !== 'Softmax');
  return [
    { name: 'data', type: 'Data', top: ['data', 'label'] },
    ...layers,
    { name: 'loss', type: 'SoftmaxWithLoss', bottom: ['fc8', 'label'], top: ['loss'] },
  ];
}

/** Caffe's forward pass in NCHW on one BGR example. */
function reference(wt: Weights, x: ref.Map3): Float64Array {
  const lrn = (m: ref.Map3) => ref.lrn(m, LRN.local_size, LRN.alpha, LRN.beta, LRN.k);
  let h = ref.relu(ref.conv(x, wt.conv1.w, wt.conv1.b, 12, 11, 11, 4, [0, 0, 0, 0], 1));
  h = ref.pool(lrn(h), 'max', 3, 2, 0, true);
  h = ref.relu(ref.conv(h, wt.conv2.w, wt.conv2.b, 32, 5, 5, 1, [2, 2, 2, 2], 2));
  h = ref.pool(lrn(h), 'max', 3, 2, 0, true);
  h = ref.relu(ref.conv(h, wt.conv3.w, wt.conv3.b, 48, 3, 3, 1, [1, 1, 1, 1], 1));
  h = ref.relu(ref.conv(h, wt.conv4.w, wt.conv4.b, 48, 3, 3, 1, [1, 1, 1, 1], 2));
  h = ref.relu(ref.conv(h, wt.conv5.w, wt.conv5.b, 32, 3, 3, 1, [1, 1, 1, 1], 2));
  h = ref.pool(h, 'max', 3, 2, 0, true);
  let f = ref.relu({ data: ref.dense(h.data, wt.fc6.w, wt.fc6.b, 512) }).data;
  f = ref.relu({ data: ref.dense(f, wt.fc7.w, wt.fc7.b, 512) }).data;
  return ref.softmax(ref.dense(f, wt.fc8.w, wt.fc8.b, CLASSES));
}

async function files(name: string, caffemodel: Uint8Array, prototxt?: string) {
  const weights = path.join(scratch, `${name}.caffemodel`);
  await writeFile(weights, caffemodel);
  let deploy: string | undefined;
  if (prototxt !== undefined) {
    deploy = path.join(scratch, `${name}.prototxt`);
    await writeFile(deploy, prototxt);
  }
  return { weights, deploy };
}

/** Runs the RGB model on x's channels swapped (the image the BGR reference sees as x) and compares. */
function expectMatchesReference(model: tf.LayersModel, wt: Weights, size: number): void {
  const shape = [2, 3, size, size];
  const x = ref.formulaInput(shape).map((v) => v * 50); // pixel-like magnitudes after mean subtraction
  const rgb = new Float32Array(x.length);
  const plane = size * size;
  for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) rgb.set(x.subarray((b * 3 + c) * plane, (b * 3 + c + 1) * plane), (b * 3 + 2 - c) * plane);
  const y = tf.tidy(() => (model.predict(tf.tensor4d(ref.nchwToNhwc(rgb, shape), [2, size, size, 3])) as tf.Tensor).dataSync());
  const expected = [0, 1].flatMap((b) => Array.from(reference(wt, ref.example(x, shape, b))));
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]))));
  expect(worst).toBeLessThan(1e-5);
  expect(Math.max(...expected)).toBeLessThan(0.999); // not saturated: the comparison means something
}

describe('BVLC AlexNet layout from Caffe', () => {
  // 99x99 input: conv1 23x23 -> pool 11 -> pool 5 -> pool5 2x2x32 (a real CHW vs HWC flatten order).
  const flat99 = 2 * 2 * 32;
  const wt = bvlcWeights(flat99);

  it('matches the zoo alexnet (width 0.125, grouped, LRN) with Caffe LRN constants, and Caffe outputs', async () => {
    const { weights, deploy } = await files('bvlc', writeCaffemodel('AlexNet', trainNet(wt, flat99)), writePrototxt('AlexNet', [10, 3, 99, 99], bvlcLayers(null, flat99)));
    const before = tf.memory().numTensors;
    const { model, info } = await importModel(weights, { prototxt: deploy });
    expect(info.source).toEqual({ format: 'caffe', file: 'bvlc.caffemodel', prototxt: 'bvlc.prototxt' });
    expect(info.zoo?.id).toBe('alexnet');
    expect(info.zoo?.options).toEqual({ input: '99x99x3', classes: 10, width: 0.125 });
    // The zoo's paper LRN (k=2, alpha 1e-4) became Caffe's: k=1, alpha/local_size.
    const spec = getModelSpec('alexnet', { input: '99x99x3', classes: 10, width: 0.125 });
    expect(model.layers.slice(1).map((l) => l.name)).toEqual(spec.layers.map((l) => l.name));
    const lrn = model.getLayer('lrn1').getConfig();
    expect(lrn).toMatchObject({ depthRadius: 2, bias: 1, beta: 0.75 });
    expect(lrn.alpha).toBeCloseTo(0.5 / 5, 7);
    expect(info.zoo?.patched).toEqual([expect.stringMatching(/^lrn1: depthRadius 2, bias 1, alpha 0\.1/), expect.stringMatching(/^lrn2: /)]);
    expect(summarizeModel(model).totalParams).toBe(countParams(spec).total);
    // The shorter side scales with the input as in training: round(99 * 256 / 224).
    expect(info.preprocessing).toMatchObject({ preset: 'caffe-imagenet', channelOrder: 'RGB', resizeShorterSide: 113 });
    expect(info.classNames).toBeNull(); // 10 classes: not ImageNet
    // model.json's metadata says the same preprocessing in data/preprocess's terms, for readers of model.json alone.
    const pre = parsePreprocessor((model.getUserDefinedMetadata() as { preprocess: unknown }).preprocess);
    expect(pre).toMatchObject({ kind: 'mean-pixel', shape: [99, 99, 3], scale: 1, mean: info.preprocessing.mean });
    const pixels = Uint8Array.from({ length: 99 * 99 * 3 }, (_, i) => (i * 37) % 256);
    const theirs = applyPreprocessor(pre, pixels, 1);
    const ours = pixelsToInput(pixels, 99, 99, 3, info.preprocessing);
    expect(Math.max(...theirs.map((v, i) => Math.abs(v - ours[i])))).toBeLessThan(1e-4); // float32 rounding of the mean
    expectMatchesReference(model, wt, 99);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("falls back to a generic graph when Caffe's ceil-mode pooling is not a valid pool (103x103 input) and still matches", async () => {
    // conv1 24x24: Caffe pools it to 12x12 (ceil), a valid 3/2 pool gives 11x11; tfjs 'same' visits Caffe's windows.
    const flat103 = 3 * 3 * 32; // Caffe: 24 -> 12 -> 6 -> 3 (valid pooling would give 11 -> 5 -> 2)
    const wt103 = bvlcWeights(flat103);
    const { weights, deploy } = await files('bvlc103', writeCaffemodel('AlexNet', trainNet(wt103, flat103)), writePrototxt('AlexNet', [1, 3, 103, 103], bvlcLayers(null, flat103)));
    const { model, info } = await importModel(weights, { prototxt: deploy });
    expect(info.zoo).toBeNull();
    expect(model.getLayer('pool1').getConfig().padding).toBe('same');
    expect(model.layers.map((l) => layerKind(l)).filter((k) => k === 'lrn')).toHaveLength(2);
    expectMatchesReference(model, wt103, 103);
    model.dispose();
  });

  it('reads V1-format caffemodels (enum layer types, legacy 4-D blob dims) with a current-format deploy prototxt', async () => {
    const V1: Record<string, string> = { Data: 'DATA', Convolution: 'CONVOLUTION', ReLU: 'RELU', LRN: 'LRN', Pooling: 'POOLING', InnerProduct: 'INNER_PRODUCT', Dropout: 'DROPOUT', SoftmaxWithLoss: 'SOFTMAX_LOSS' };
    const layers = trainNet(wt, flat99).map((l) => ({ ...l, v1type: V1[l.type], blobs: l.blobs?.map((b) => ({ ...b, legacy: true })) }));
    const { weights, deploy } = await files('bvlc-v1', writeCaffemodelV1('AlexNet', layers), writePrototxt('AlexNet', [1, 3, 99, 99], bvlcLayers(null, flat99)));
    const { model, info } = await importModel(weights, { prototxt: deploy });
    expect(info.zoo?.id).toBe('alexnet');
    expectMatchesReference(model, wt, 99);
    model.dispose();
  });

  it('says what is wrong when the files do not fit together', async () => {
    const model = writeCaffemodel('AlexNet', trainNet(wt, flat99));
    // No prototxt: the caffemodel is a training net without an input size.
    const alone = await files('alone', model);
    await expect(importModel(alone.weights)).rejects.toThrow(/training net .*Data.*--prototxt/);
    // A prototxt of another model: a layer with weights that the caffemodel lacks.
    const other = bvlcLayers(null, flat99).map((l) => (l.name === 'conv3' ? { ...l, name: 'conv3_new', top: ['conv3'] } : l));
    const renamed = await files('renamed', model, writePrototxt('Other', [1, 3, 99, 99], other));
    await expect(importModel(renamed.weights, { prototxt: renamed.deploy })).rejects.toThrow(/has no weights for layer 'conv3_new' \(Convolution\) of renamed\.prototxt; its layers with weights are conv1, conv2, conv3/);
    // A prototxt whose num_output disagrees with the blobs.
    const wider = bvlcLayers(null, flat99).map((l) => (l.name === 'conv2' ? { ...l, params: { convolution_param: { num_output: 64, kernel_size: [5], pad: [2], group: 2 } } } : l));
    const mismatch = await files('mismatch', model, writePrototxt('AlexNet', [1, 3, 99, 99], wider));
    const err = await importModel(mismatch.weights, { prototxt: mismatch.deploy }).catch((e) => e);
    expect(err).toBeInstanceOf(ImportFileError);
    expect(err.message).toMatch(/layer conv2 \(Convolution\): the weights are 32x6x5x5 but the layer has 64 outputs .*do not match/);
    // A prototxt with the wrong input size: fc6 receives another number of features.
    const resized = await files('resized', model, writePrototxt('AlexNet', [1, 3, 131, 131], bvlcLayers(null, flat99)));
    const resizedErr = await importModel(resized.weights, { prototxt: resized.deploy }).catch((e) => e);
    expect(resizedErr).toBeInstanceOf(ImportFileError);
    expect(resizedErr.message).toMatch(/fc6: its weights take 128 inputs but it receives 288/);
    // A truncated caffemodel.
    const cut = await files('cut', model.subarray(0, Math.floor(model.length * 0.6)), writePrototxt('AlexNet', [1, 3, 99, 99], bvlcLayers(null, flat99)));
    await expect(importModel(cut.weights, { prototxt: cut.deploy })).rejects.toThrow(ImportFileError);
    // A prototxt that is not one.
    const garbage = await files('garbage', model, 'layer { name: "x" type: ');
    await expect(importModel(garbage.weights, { prototxt: garbage.deploy })).rejects.toThrow(/garbage\.prototxt line 1: .*is it a Caffe prototxt/);
  });
});

describe('Caffe batch norm, scale, eltwise and average pooling', () => {
  it('folds BatchNorm + Scale into one layer and matches the reference', async () => {
    const next = ref.rng(5);
    const w = ref.randomArray(4 * 3 * 9, 0.5, next), b = ref.randomArray(4, 0.1, next);
    const mean = ref.randomArray(4, 0.3, next), variance = ref.randomArray(4, 0.4, next).map((v) => 1 + v), factor = 2.5;
    const gamma = ref.randomArray(4, 0.5, next).map((v) => 1 + v), beta = ref.randomArray(4, 0.3, next);
    const fw = ref.randomArray(3 * 4, 0.5, next), fb = ref.randomArray(3, 0.1, next);
    const layers: CaffeLayerDef[] = [
      { name: 'conv', type: 'Convolution', bottom: ['data'], top: ['conv'], params: { convolution_param: { num_output: 4, kernel_size: [3], pad: [1] } }, blobs: [{ dims: [4, 3, 3, 3], values: w }, { dims: [4], values: b }] },
      { name: 'bn', type: 'BatchNorm', bottom: ['conv'], top: ['conv'], params: { batch_norm_param: { eps: 1e-3 } }, blobs: [{ dims: [4], values: mean.map((v) => v * factor) }, { dims: [4], values: variance.map((v) => v * factor) }, { dims: [1], values: new Float32Array([factor]) }] },
      { name: 'scale', type: 'Scale', bottom: ['conv'], top: ['conv'], params: { scale_param: { bias_term: true } }, blobs: [{ dims: [4], values: gamma }, { dims: [4], values: beta }] },
      { name: 'relu', type: 'ReLU', bottom: ['conv'], top: ['conv'] },
      { name: 'gap', type: 'Pooling', bottom: ['conv'], top: ['gap'], params: { pooling_param: { pool: 'AVE', kernel_size: 6, stride: 1 } } },
      { name: 'fc', type: 'InnerProduct', bottom: ['gap'], top: ['fc'], params: { inner_product_param: { num_output: 3 } }, blobs: [{ dims: [3, 4], values: fw }, { dims: [3], values: fb }] },
    ];
    const { weights, deploy } = await files('bn', writeCaffemodel('bn', layers), writePrototxt('bn', [1, 3, 6, 6], layers));
    const { model, info } = await importModel(weights, { prototxt: deploy });
    expect(model.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation', 'AveragePooling2D', 'Flatten', 'Dense']);
    const x = ref.formulaInput([1, 3, 6, 6]).map((v) => v * 30);
    const bgr = ref.example(x, [1, 3, 6, 6], 0);
    const h = ref.relu(ref.batchNorm(ref.conv(bgr, w, b, 4, 3, 3, 1, [1, 1, 1, 1], 1), gamma, beta, mean, variance, 1e-3));
    const gap = Float64Array.from({ length: 4 }, (_, c) => h.data.subarray(c * 36, (c + 1) * 36).reduce((s, v) => s + v, 0) / 36);
    const expected = ref.dense(gap, fw, fb, 3);
    const rgb = new Float32Array(x.length);
    for (let c = 0; c < 3; c++) rgb.set(x.subarray(c * 36, (c + 1) * 36), (2 - c) * 36);
    const y = tf.tidy(() => (model.predict(tf.tensor4d(ref.nchwToNhwc(rgb, [1, 3, 6, 6]), [1, 6, 6, 3])) as tf.Tensor).dataSync());
    expected.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 4));
    expect(info.output.softmax).toBe(false);
    model.dispose();
  });

  it('refuses layer types it cannot convert, naming them', async () => {
    const layers: CaffeLayerDef[] = [{ name: 'deconv', type: 'Deconvolution', bottom: ['data'], top: ['d'] }, { name: 'prelu', type: 'PReLU', bottom: ['d'], top: ['d'] }];
    const { weights, deploy } = await files('unsup', writeCaffemodel('x', [{ name: 'fc', type: 'InnerProduct', blobs: [{ dims: [1], values: new Float32Array(1) }] }]), writePrototxt('x', [1, 3, 8, 8], layers));
    const err = await importModel(weights, { prototxt: deploy }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedModelError);
    expect(err.message).toMatch(/layer types ConvScope cannot import: Deconvolution, PReLU/);
  });
});
