// ONNX graphs written by this test (protobufjs, from its own copy of onnx.proto's declarations) with real LRN
// nodes, grouped convolutions, asymmetric pads, BatchNorm, Concat, Add, MatMul+Add and reshapes; every
// import is checked against a plain-JS NCHW reference computed here.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { importModel, UnsupportedModelError } from '../../src-main/engine/import';
import { layerKind } from '../../src-main/engine/models';
import * as ref from '../fixtures/import/reference';
import { writeOnnx } from '../fixtures/import/writers';

let scratch: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-import-ops-'));
});

async function importBytes(name: string, bytes: Uint8Array) {
  const file = path.join(scratch, name);
  await writeFile(file, bytes);
  return importModel(file);
}

function run(model: tf.LayersModel, x: Float32Array, nchw: number[]): Float32Array {
  const nhwc = ref.nchwToNhwc(x, nchw);
  return tf.tidy(() => (model.predict(tf.tensor4d(nhwc, [nchw[0], nchw[2], nchw[3], nchw[1]])) as tf.Tensor).dataSync() as Float32Array);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tol);
}

describe('ONNX with LRN and grouped convolutions', () => {
  const next = ref.rng(7);
  const w1 = ref.randomArray(8 * 3 * 5 * 5, 0.4, next);
  const b1 = ref.randomArray(8, 0.1, next);
  const w2 = ref.randomArray(12 * 4 * 3 * 3, 0.3, next);
  const b2 = ref.randomArray(12, 0.1, next);
  const w3 = ref.randomArray(20 * 192, 0.1, next);
  const b3 = ref.randomArray(20, 0.1, next);
  const w4 = ref.randomArray(20 * 5, 0.3, next);
  const b4 = ref.randomArray(5, 0.1, next);
  const shape = [2, 3, 35, 35];

  const bytes = writeOnnx({
    input: { name: 'data_0', dims: ['N', 3, 35, 35] },
    output: 'prob',
    producer: 'onnx-caffe2',
    asFloatData: ['w2'],
    weights: { w1: { dims: [8, 3, 5, 5], values: w1 }, b1: { dims: [8], values: b1 }, w2: { dims: [12, 4, 3, 3], values: w2 }, b2: { dims: [12], values: b2 }, w3: { dims: [20, 192], values: w3 }, b3: { dims: [20], values: b3 }, w4: { dims: [20, 5], values: w4 }, b4: { dims: [5], values: b4 } },
    ints: { flat_shape: [0, -1] },
    nodes: [
      { op: 'Conv', inputs: ['data_0', 'w1', 'b1'], outputs: ['c1'], attrs: { kernel_shape: [5, 5], strides: [2, 2], pads: [0, 0, 0, 0] } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'LRN', inputs: ['r1'], outputs: ['n1'], attrs: { size: 5 }, floatAttrs: { alpha: 0.01, beta: 0.75, bias: 2 } },
      // Caffe's ceil-mode pooling as Caffe2's converter writes it: an extra pad at the end.
      { op: 'MaxPool', inputs: ['n1'], outputs: ['p1'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] } },
      { op: 'Conv', inputs: ['p1', 'w2', 'b2'], outputs: ['c2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 } },
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'LRN', inputs: ['r2'], outputs: ['n2'], attrs: { size: 3 }, floatAttrs: { alpha: 0.002, beta: 0.5, bias: 1 } },
      { op: 'MaxPool', inputs: ['n2'], outputs: ['p2'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Reshape', inputs: ['p2', 'flat_shape'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w3', 'b3'], outputs: ['g1'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['g1'], outputs: ['r3'] },
      { op: 'Dropout', inputs: ['r3'], outputs: ['d3'] },
      { op: 'Gemm', inputs: ['d3', 'w4', 'b4'], outputs: ['g2'], floatAttrs: { alpha: 0.5, beta: 2 } },
      { op: 'Softmax', inputs: ['g2'], outputs: ['prob'], attrs: { axis: 1 } },
    ],
  });

  function reference(x: ref.Map3): Float64Array {
    let h = ref.relu(ref.conv(x, w1, b1, 8, 5, 5, 2, [0, 0, 0, 0], 1));
    h = ref.pool(ref.lrn(h, 5, 0.01, 0.75, 2), 'max', 3, 2, 0, true);
    h = ref.relu(ref.conv(h, w2, b2, 12, 3, 3, 1, [1, 1, 1, 1], 2));
    h = ref.pool(ref.lrn(h, 3, 0.002, 0.5, 1), 'max', 2, 2, 0, false);
    const fc1 = ref.relu({ data: ref.dense(h.data, w3, b3, 20) }).data;
    const logits = Float64Array.from({ length: 5 }, (_, j) => 0.5 * fc1.reduce((s, v, i) => s + v * w4[i * 5 + j], 0) + 2 * b4[j]);
    return ref.softmax(logits);
  }

  /** The source takes BGR: the imported model takes RGB, so the same image reaches it with channels 0 and 2 swapped. */
  function swapRedBlue(x: Float32Array): Float32Array {
    const out = new Float32Array(x.length);
    const plane = 35 * 35;
    for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) out.set(x.subarray((b * 3 + c) * plane, (b * 3 + c + 1) * plane), (b * 3 + (2 - c)) * plane);
    return out;
  }

  it('matches the reference (Caffe LRN convention, ceil-mode pads, groups, CHW flatten order, Gemm alpha/beta) on RGB input', async () => {
    const { model, info } = await importBytes('lrn.onnx', bytes);
    const x = ref.formulaInput(shape);
    const expected = [0, 1].flatMap((b) => Array.from(reference(ref.example(x, shape, b))));
    expectClose(run(model, swapRedBlue(x), shape), expected, 1e-5);
    // Caffe's alpha/n convention: ours is alpha / size.
    const lrn = model.layers.filter((l) => layerKind(l) === 'lrn').map((l) => l.getConfig());
    expect(lrn).toMatchObject([{ depthRadius: 2, bias: 2, beta: 0.75 }, { depthRadius: 1, bias: 1, beta: 0.5 }]);
    // The attributes are float32 (0.01 is stored as 0.0099999998); read back as the decimal they were written as.
    expect(lrn[0].alpha).toBe(0.01 / 5);
    expect(lrn[1].alpha).toBe(0.002 / 3);
    expect(model.layers.filter((l) => l.getClassName() === 'GroupedConv2D')).toHaveLength(1);
    // Producer from Caffe: BVLC preprocessing, BGR folded into conv1 so the model takes RGB (mean in RGB order).
    expect(info.preprocessing).toMatchObject({ preset: 'caffe-imagenet', channelOrder: 'RGB', scale: 1, std: [1, 1, 1] });
    expect(info.preprocessing.mean).toEqual([122.67891434, 116.66876762, 104.00698793]);
    expect(info.notes.join(' ')).toMatch(/reordered from BGR/);
    model.dispose();
  });

  it('keeps the source channel order when told the preprocessing (--preprocess none)', async () => {
    const file = path.join(scratch, 'lrn-none.onnx');
    await writeFile(file, bytes);
    const { model, info } = await importModel(file, { preprocess: 'none' });
    expect(info.preprocessing).toMatchObject({ preset: 'none', channelOrder: 'RGB', mean: [0, 0, 0] });
    const x = ref.formulaInput(shape);
    const expected = [0, 1].flatMap((b) => Array.from(reference(ref.example(x, shape, b))));
    expectClose(run(model, x, shape), expected, 1e-5);
    // And the swapped input now gives something else: the reversal above was real.
    expect(Math.max(...run(model, swapRedBlue(x), shape).map((v, i) => Math.abs(v - expected[i])))).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

describe('ONNX converted from Caffe at 224x224 (pooling padded to emulate Caffe rounding)', () => {
  // BVLC AlexNet at 1/16 width with LRN, as the ONNX model zoo's bvlc_alexnet is laid out: a 224 input whose
  // max-pools carry an extra end pad. At 227 (the Caffe original's size) the same weights are the zoo alexnet.
  const next = ref.rng(21);
  const he = (fanIn: number, n: number) => ref.randomArray(n, Math.sqrt(6 / fanIn), next);
  const convs = [
    { name: 'conv1', m: 6, cg: 3, k: 11, stride: 4, pad: 0, group: 1 },
    { name: 'conv2', m: 16, cg: 3, k: 5, stride: 1, pad: 2, group: 2 },
    { name: 'conv3', m: 24, cg: 16, k: 3, stride: 1, pad: 1, group: 1 },
    { name: 'conv4', m: 24, cg: 12, k: 3, stride: 1, pad: 1, group: 2 },
    { name: 'conv5', m: 16, cg: 12, k: 3, stride: 1, pad: 1, group: 2 },
  ].map((c) => ({ ...c, w: he(c.cg * c.k * c.k, c.m * c.cg * c.k * c.k), b: ref.randomArray(c.m, 0.1, next) }));
  const fcs = [
    { name: 'fc6', n: 256, k: 576 },
    { name: 'fc7', n: 256, k: 256 },
    { name: 'fc8', n: 10, k: 256 },
  ].map((f) => ({ ...f, w: he(f.k, f.n * f.k), b: ref.randomArray(f.n, 0.1, next) }));
  const weights: Record<string, { dims: number[]; values: Float32Array }> = {};
  for (const c of convs) Object.assign(weights, { [`${c.name}_w_0`]: { dims: [c.m, c.cg, c.k, c.k], values: c.w }, [`${c.name}_b_0`]: { dims: [c.m], values: c.b } });
  for (const f of fcs) Object.assign(weights, { [`${f.name}_w_0`]: { dims: [f.n, f.k], values: f.w }, [`${f.name}_b_0`]: { dims: [f.n], values: f.b } });
  const conv = (c: (typeof convs)[number], input: string) => ({ op: 'Conv', inputs: [input, `${c.name}_w_0`, `${c.name}_b_0`], outputs: [c.name], attrs: { kernel_shape: [c.k, c.k], strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad], group: c.group } });
  const relu = (x: string) => ({ op: 'Relu', inputs: [x], outputs: [`${x}_r`] });
  const lrn = (x: string, y: string) => ({ op: 'LRN', inputs: [x], outputs: [y], attrs: { size: 5 }, floatAttrs: { alpha: 0.05, beta: 0.75, bias: 1 } });
  const pool = (x: string, y: string) => ({ op: 'MaxPool', inputs: [x], outputs: [y], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] } });
  const gemm = (f: (typeof fcs)[number], x: string) => ({ op: 'Gemm', inputs: [x, `${f.name}_w_0`, `${f.name}_b_0`], outputs: [f.name], attrs: { transB: 1 } });
  const bytes = writeOnnx({
    input: { name: 'data_0', dims: [1, 3, 224, 224] },
    output: 'prob_1',
    producer: 'converted',
    weights,
    nodes: [
      conv(convs[0], 'data_0'), relu('conv1'), lrn('conv1_r', 'norm1'), pool('norm1', 'pool1'),
      conv(convs[1], 'pool1'), relu('conv2'), lrn('conv2_r', 'norm2'), pool('norm2', 'pool2'),
      conv(convs[2], 'pool2'), relu('conv3'), conv(convs[3], 'conv3_r'), relu('conv4'), conv(convs[4], 'conv4_r'), relu('conv5'), pool('conv5_r', 'pool5'),
      { op: 'Flatten', inputs: ['pool5'], outputs: ['flat'] },
      gemm(fcs[0], 'flat'), relu('fc6'), { op: 'Dropout', inputs: ['fc6_r'], outputs: ['drop6'] },
      gemm(fcs[1], 'drop6'), relu('fc7'), { op: 'Dropout', inputs: ['fc7_r'], outputs: ['drop7'] },
      gemm(fcs[2], 'drop7'), { op: 'Softmax', inputs: ['fc8'], outputs: ['prob_1'] },
    ],
  });

  it('is rebased to 227x227, where it is the zoo alexnet, with a note, and matches Caffe-style outputs there', async () => {
    const { model, info } = await importBytes('bvlc224.onnx', bytes);
    expect(info.zoo?.id).toBe('alexnet');
    expect(info.zoo?.options).toEqual({ classes: 10, width: 0.0625 }); // dropout 0.5 and lrn are the defaults
    expect(info.input).toEqual({ height: 227, width: 227, channels: 3 });
    expect(info.notes.join(' ')).toMatch(/declares a 224x224 input; at 227x227/);
    expect(info.preprocessing).toMatchObject({ preset: 'caffe-imagenet', channelOrder: 'RGB' }); // BVLC layout: Caffe preprocessing
    const shape = [1, 3, 227, 227];
    const x = ref.formulaInput(shape).map((v) => v * 50);
    let h = ref.example(x, shape, 0);
    const step = (c: (typeof convs)[number], m: ref.Map3) => ref.relu(ref.conv(m, c.w, c.b, c.m, c.k, c.k, c.stride, [c.pad, c.pad, c.pad, c.pad], c.group));
    h = ref.pool(ref.lrn(step(convs[0], h), 5, 0.05, 0.75, 1), 'max', 3, 2, 0, true);
    h = ref.pool(ref.lrn(step(convs[1], h), 5, 0.05, 0.75, 1), 'max', 3, 2, 0, true);
    h = ref.pool(step(convs[4], step(convs[3], step(convs[2], h))), 'max', 3, 2, 0, true);
    let f = ref.relu({ data: ref.dense(h.data, fcs[0].w, fcs[0].b, 256) }).data;
    f = ref.relu({ data: ref.dense(f, fcs[1].w, fcs[1].b, 256) }).data;
    const expected = ref.softmax(ref.dense(f, fcs[2].w, fcs[2].b, 10));
    const rgb = new Float32Array(x.length);
    for (let c = 0; c < 3; c++) rgb.set(x.subarray(c * 227 * 227, (c + 1) * 227 * 227), (2 - c) * 227 * 227);
    expectClose(run(model, rgb, shape), expected, 1e-5);
    model.dispose();
  });
});

describe('ONNX generic graph (Concat, Add, BatchNorm, asymmetric pads, MatMul + Add, global pooling)', () => {
  const next = ref.rng(11);
  const R = (n: number, s: number) => ref.randomArray(n, s, next);
  const wa = R(4 * 3 * 9, 0.4), ba = R(4, 0.2);
  const gamma = R(4, 0.5).map((v) => 1 + v), beta = R(4, 0.3), mean = R(4, 0.2), variance = R(4, 0.5).map((v) => 1 + v * 0.5);
  const wb = R(3 * 4, 0.5), bb = R(3, 0.1);
  const wc = R(3 * 4 * 9, 0.3), bc = R(3, 0.1);
  const wd = R(6 * 4 * 9, 0.3), bd = R(6, 0.1);
  const wm = R(6 * 4, 0.8), bm = R(4, 0.2);
  const shape = [1, 3, 12, 12];

  const bytes = writeOnnx({
    input: { name: 'x', dims: [1, 3, 12, 12] },
    output: 'out',
    weights: {
      wa: { dims: [4, 3, 3, 3], values: wa }, ba: { dims: [4, 1, 1], values: ba },
      gamma: { dims: [4], values: gamma }, beta: { dims: [4], values: beta }, mean: { dims: [4], values: mean }, var: { dims: [4], values: variance },
      wb: { dims: [3, 4, 1, 1], values: wb }, bb: { dims: [3], values: bb }, wc: { dims: [3, 4, 3, 3], values: wc }, bc: { dims: [3], values: bc },
      wd: { dims: [6, 4, 3, 3], values: wd }, bd: { dims: [6], values: bd }, wm: { dims: [6, 4], values: wm }, bm: { dims: [4], values: bm },
    },
    nodes: [
      { op: 'Conv', inputs: ['x', 'wa'], outputs: ['a0'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Add', inputs: ['a0', 'ba'], outputs: ['a1'] },
      { op: 'BatchNormalization', inputs: ['a1', 'gamma', 'beta', 'mean', 'var'], outputs: ['a2'], floatAttrs: { epsilon: 1e-3 } },
      { op: 'Sigmoid', inputs: ['a2'], outputs: ['s'] },
      { op: 'Conv', inputs: ['s', 'wb', 'bb'], outputs: ['b'], attrs: { kernel_shape: [1, 1] } },
      { op: 'Conv', inputs: ['s', 'wc', 'bc'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Concat', inputs: ['b', 'c'], outputs: ['bc'], attrs: { axis: 1 } },
      { op: 'Conv', inputs: ['s', 'wd', 'bd'], outputs: ['d'], attrs: { kernel_shape: [3, 3], pads: [0, 1, 2, 1] } },
      { op: 'Add', inputs: ['bc', 'd'], outputs: ['sum'] },
      { op: 'Tanh', inputs: ['sum'], outputs: ['t'] },
      { op: 'GlobalAveragePool', inputs: ['t'], outputs: ['gap'] },
      { op: 'Flatten', inputs: ['gap'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['flat', 'wm'], outputs: ['mm'] },
      { op: 'Add', inputs: ['mm', 'bm'], outputs: ['out'] },
    ],
  });

  it('matches the reference and builds a functional graph with concatenate, add and zero padding', async () => {
    const { model, info } = await importBytes('dag.onnx', bytes);
    expect(info.zoo).toBeNull();
    expect(info.preprocessing.preset).toBe('none'); // producer unknown: nothing guessed
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes).toEqual(expect.arrayContaining(['Concatenate', 'Add', 'ZeroPadding2D', 'BatchNormalization', 'AveragePooling2D']));
    const x = ref.formulaInput(shape);
    const input = ref.example(x, shape, 0);
    const s = { c: 4, h: 12, w: 12, data: ref.sigmoid(ref.batchNorm(ref.conv(input, wa, ba, 4, 3, 3, 1, [1, 1, 1, 1], 1), gamma, beta, mean, variance, 1e-3).data) };
    const b = ref.conv(s, wb, bb, 3, 1, 1, 1, [0, 0, 0, 0], 1);
    const c = ref.conv(s, wc, bc, 3, 3, 3, 1, [1, 1, 1, 1], 1);
    const d = ref.conv(s, wd, bd, 6, 3, 3, 1, [0, 1, 2, 1], 1);
    const t = Float64Array.from([...b.data, ...c.data], (v, i) => Math.tanh(v + d.data[i]));
    const gap = Float64Array.from({ length: 6 }, (_, ch) => t.subarray(ch * 144, (ch + 1) * 144).reduce((p, v) => p + v, 0) / 144);
    const expected = Array.from({ length: 4 }, (_, j) => gap.reduce((p, v, i) => p + v * wm[i * 4 + j], 0) + bm[j]);
    expectClose(run(model, x, shape), expected, 1e-5);
    model.dispose();
  });
});

describe('ONNX refusals', () => {
  it('names every unsupported op with its count', async () => {
    const bytes = writeOnnx({
      input: { name: 'x', dims: [1, 3, 8, 8] },
      output: 'y',
      weights: {},
      nodes: [
        { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'] },
        { op: 'Upsample', inputs: ['a'], outputs: ['b'] },
        { op: 'LeakyRelu', inputs: ['b'], outputs: ['y'] },
      ],
    });
    const err = await importBytes('unsupported.onnx', bytes).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedModelError);
    expect(err.message).toMatch(/LeakyRelu \(2x\), Upsample \(1x\)/);
  });

  it('refuses an even LRN size, which tfjs cannot centre', async () => {
    const bytes = writeOnnx({
      input: { name: 'x', dims: [1, 4, 8, 8] },
      output: 'y',
      weights: {},
      nodes: [{ op: 'LRN', inputs: ['x'], outputs: ['y'], attrs: { size: 4 }, floatAttrs: { alpha: 1e-4, beta: 0.75 } }],
    });
    await expect(importBytes('lrn-even.onnx', bytes)).rejects.toThrow(/LRN size must be an odd whole number.*got 4/);
  });

  it('refuses weights that disagree with the shapes reaching them', async () => {
    const bytes = writeOnnx({
      input: { name: 'x', dims: [1, 3, 8, 8] },
      output: 'y',
      weights: { w: { dims: [4, 2, 3, 3], values: new Float32Array(72) } },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3] } }],
    });
    await expect(importBytes('bad-shape.onnx', bytes)).rejects.toThrow(/Conv node Conv_0: its weights expect 2 input channels .* but it receives 3/);
  });
});
