// torchvision's AlexNet: the zoo's `alexnet-torchvision` spec (61,100,840 params), and an ONNX export of it
// (scripts/make-torchvision-alexnet-fixture.py: torchvision's code at 1/16 width, 10 classes) that imports
// as that zoo model, with PyTorch's logits reproduced and the layout conversions checked weight by weight.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { countParams, getModelSpec, inferShapes, listModels, loadModel, summarizeModel, type LayerSpec, type ModelSpec } from '../../src-main/engine/models';
import { importModel, readModelInfo, saveImportedModel } from '../../src-main/engine/import';
import { readOnnx } from '../../src-main/engine/import/onnx';
import { floats, type FloatTensor } from '../../src-main/engine/import/ir';
import { MODEL_INPUT, type LayerPlan, type PlanLayer } from '../../src-main/engine/import/plan';
import { matchZoo } from '../../src-main/engine/import/zoo-match';
import { chainLayers, forward } from '../../src-main/engine/train/forward';
import { formulaInput, nchwToNhwc } from '../fixtures/import/reference';
import { maxAbsDiff } from '../support/arrays';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/import/alexnet-torchvision-zoo.onnx');
const ID = 'alexnet-torchvision';

interface Expected {
  input_shape_nchw: number[];
  output: number[];
  zoo: { id: string; options: Record<string, number> };
}

let scratch: string;
let exp: Expected;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-torchvision-'));
  exp = JSON.parse(await readFile(FIXTURE.replace(/\.onnx$/, '.expected.json'), 'utf8'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});


describe('the zoo entry alexnet-torchvision', () => {
  it('is torchvision.models.alexnet: 61,100,840 params, 224x224x3 in, 6x6x256 before fc6, dropout before fc6 and fc7', () => {
    const spec = getModelSpec(ID);
    expect(spec.input).toEqual([224, 224, 3]);
    expect(spec.classes).toBe(1000);
    expect(countParams(spec)).toEqual({ total: 61_100_840, trainable: 61_100_840, nonTrainable: 0 });
    const shapes = Object.fromEntries(inferShapes(spec).map((l) => [l.name, [l.outputShape.join('x'), l.params]]));
    expect(shapes).toEqual({
      conv1: ['55x55x64', 23_296],
      pool1: ['27x27x64', 0],
      conv2: ['27x27x192', 307_392],
      pool2: ['13x13x192', 0],
      conv3: ['13x13x384', 663_936],
      conv4: ['13x13x256', 884_992],
      conv5: ['13x13x256', 590_080],
      pool5: ['6x6x256', 0],
      flatten: ['9216', 0],
      drop6: ['9216', 0],
      fc6: ['4096', 37_752_832],
      drop7: ['4096', 0],
      fc7: ['4096', 16_781_312],
      fc8: ['1000', 4_097_000],
    });
    const byName = Object.fromEntries(spec.layers.map((l) => [l.name, l]));
    expect(byName.conv1).toMatchObject({ filters: 64, kernel: 11, stride: 4, padding: 2, groups: 1, activation: 'relu' });
    expect(byName.conv2).toMatchObject({ filters: 192, kernel: 5, stride: 1, padding: 2, activation: 'relu' });
    for (const n of ['conv3', 'conv4', 'conv5']) expect(byName[n]).toMatchObject({ kernel: 3, padding: 1, groups: 1, activation: 'relu' });
    for (const n of ['pool1', 'pool2', 'pool5']) expect(byName[n]).toMatchObject({ kind: 'maxPool', size: 3, stride: 2 });
    expect([byName.drop6, byName.drop7]).toEqual([expect.objectContaining({ rate: 0.5 }), expect.objectContaining({ rate: 0.5 })]);
    expect(byName.fc8).toMatchObject({ units: 1000, activation: 'softmax' });
    expect(spec.layers.some((l) => l.kind === 'lrn' || l.kind === 'batchNorm')).toBe(false);
    expect(listModels().find((m) => m.id === ID)).toMatchObject({ input: [224, 224, 3], classes: 1000 });
  });

  it("takes the zoo's overrides where they make sense, and refuses the others by name", () => {
    const small = getModelSpec(ID, { width: '0.0625', classes: '10', input: '127x127x3', dropout: '0' });
    // 4-12-24-16-16 filters, 3x3x16 before fc6 at 127x127, fc 256-256-10.
    expect(inferShapes(small).find((l) => l.name === 'pool5')!.outputShape).toEqual([3, 3, 16]);
    expect(countParams(small).total).toBe(
      (11 * 11 * 3 * 4 + 4) + (5 * 5 * 4 * 12 + 12) + (3 * 3 * 12 * 24 + 24) + (3 * 3 * 24 * 16 + 16) + (3 * 3 * 16 * 16 + 16) + (144 * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10),
    );
    expect(small.layers.some((l) => l.kind === 'dropout')).toBe(false);
    const variants = getModelSpec(ID, { lrn: true, batchNorm: true, overlap: false, activation: 'tanh', fcActivation: 'relu', init: 'he' });
    expect(variants.layers.map((l) => l.name).slice(0, 6)).toEqual(['conv1', 'lrn1', 'bn1', 'pool1', 'conv2', 'lrn2']);
    expect(variants.layers.find((l) => l.name === 'pool1')).toMatchObject({ size: 2, stride: 2 });
    expect(variants.layers.find((l) => l.name === 'conv1')).toMatchObject({ activation: 'tanh', kernelInit: { kind: 'heNormal' } });
    expect(variants.layers.find((l) => l.name === 'fc6')).toMatchObject({ activation: 'relu' });
    expect(() => getModelSpec(ID, { grouped: true })).toThrow(/'grouped' does not apply to alexnet-torchvision \(only to alexnet\)/);
    expect(() => getModelSpec(ID, { init: 'paper' })).toThrow(/bad value 'paper' for option 'init'/);
  });
});

/** A weightless plan with the spec's layers as a lowered ONNX graph gives them (the matcher reads configs only). */
function planOf(spec: ModelSpec, opts: { dropout: boolean; logits: boolean }): LayerPlan {
  const layers: PlanLayer[] = [];
  const push = (name: string, config: PlanLayer['config']) => layers.push({ name, inputs: [layers.length === 0 ? MODEL_INPUT : layers.length - 1], config, weights: [], source: name });
  spec.layers.forEach((l: LayerSpec, i) => {
    const last = i === spec.layers.length - 1;
    if (l.kind === 'conv') push(l.name, { kind: 'conv', filters: l.filters, kernel: [l.kernel, l.kernel], strides: [l.stride, l.stride], padding: l.padding, groups: 1, activation: l.activation, useBias: true });
    if (l.kind === 'maxPool') push(l.name, { kind: 'maxPool', size: [l.size, l.size], strides: [l.stride, l.stride], padding: l.padding });
    if (l.kind === 'flatten') push(l.name, { kind: 'flatten' });
    if (l.kind === 'dropout' && opts.dropout) push(l.name, { kind: 'dropout', rate: l.rate });
    if (l.kind === 'dense') push(l.name, { kind: 'dense', units: l.units, activation: last && opts.logits ? 'linear' : l.activation, useBias: true });
  });
  return { name: 'torchvision', input: spec.input, layers, output: layers.length - 1, notes: [] };
}

describe("matching torchvision's layout onto the zoo", () => {
  it('maps the full-size layout (logits out, dropout dropped by the eval export) to alexnet-torchvision', () => {
    const spec = getModelSpec(ID);
    const evalExport = matchZoo(planOf(spec, { dropout: false, logits: true }));
    expect(evalExport).toMatchObject({ overrides: { dropout: 0 }, patched: [], softmaxAdded: true });
    expect(evalExport!.spec.id).toBe(ID);
    const withDropout = matchZoo(planOf(spec, { dropout: true, logits: false }));
    expect(withDropout).toMatchObject({ overrides: {}, softmaxAdded: false });
    expect(withDropout!.spec.id).toBe(ID);
    // The paper's alexnet is not taken for it, nor is this layout taken for the paper's.
    expect(matchZoo(planOf(getModelSpec('alexnet', { lrn: false, grouped: false }), { dropout: true, logits: false }))!.spec.id).toBe('alexnet');
  });
});

describe('a torchvision AlexNet exported with torch.onnx.export', () => {
  it("imports as the zoo's alexnet-torchvision and reproduces PyTorch's logits to 1e-4", async () => {
    const before = tf.memory().numTensors;
    const { model, info } = await importModel(FIXTURE);
    expect(info.name).toBe(ID);
    expect(info.zoo).toEqual({ id: ID, options: exp.zoo.options, patched: [] });
    expect(model.name).toBe(ID);
    const spec = getModelSpec(ID, exp.zoo.options);
    expect(model.layers.slice(1).map((l) => l.name)).toEqual(spec.layers.map((l) => l.name));
    expect(summarizeModel(model).totalParams).toBe(countParams(spec).total);
    expect(info.output).toEqual({ classes: 10, softmax: true });
    expect(info.notes).toEqual(expect.arrayContaining([expect.stringMatching(/outputs logits; .*'alexnet-torchvision' .*softmax/)]));
    expect(info.preprocessing).toMatchObject({ preset: 'torchvision-imagenet', channelOrder: 'RGB', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resizeShorterSide: 256 });

    const nchw = exp.input_shape_nchw;
    const [n, , h, w] = nchw;
    const x = tf.tensor4d(nchwToNhwc(formulaInput(nchw), nchw), [n, h, w, 3]);
    // The logits as training computes them (the output layer's input to its softmax), and the probabilities.
    const logits = tf.tidy(() => forward(chainLayers(model), x, { training: false, logits: true }).dataSync() as Float32Array);
    const probs = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
    const torchProbs = tf.tidy(() => tf.softmax(tf.tensor2d(exp.output, [n, 10])).dataSync());
    x.dispose();
    const logitError = maxAbsDiff(logits, exp.output);
    const probError = maxAbsDiff(probs, torchProbs);
    expect(logitError).toBeLessThan(1e-4);
    expect(probError).toBeLessThan(1e-5);
    expect(maxAbsDiff(logits.subarray(0, 10), logits.subarray(10))).toBeGreaterThan(1e-2); // two different examples

    // Saved and reopened, it is the same model with the same record.
    const dir = path.join(scratch, 'imported');
    await saveImportedModel({ model, info }, dir);
    const reloaded = await loadModel(dir);
    const again = tf.tidy(() => (reloaded.predict(tf.tensor4d(nchwToNhwc(formulaInput(nchw), nchw), [n, h, w, 3])) as tf.Tensor).dataSync());
    expect(maxAbsDiff(again, probs)).toBe(0);
    expect((await readModelInfo(dir))?.zoo?.id).toBe(ID);
    reloaded.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('converts conv kernels OIHW -> HWIO and fc6 (Gemm, transB) to [in, out] rows in NHWC flatten order', async () => {
    const graph = readOnnx(await readFile(FIXTURE), 'fixture').graph;
    const weightOf = (op: string) => {
      const node = graph.nodes.find((nd) => nd.op === op)!;
      return graph.constants.get(node.inputs[1]) as FloatTensor;
    };
    const { model } = await importModel(FIXTURE);
    // conv1: ONNX [out 4, in 3, 11, 11]; tfjs [11, 11, in 3, out 4].
    const convOnnx = weightOf('Conv');
    expect(convOnnx.dims).toEqual([4, 3, 11, 11]);
    const convW = floats(convOnnx);
    const [kernel] = model.getLayer('conv1').getWeights();
    expect(kernel.shape).toEqual([11, 11, 3, 4]);
    const hwio = kernel.dataSync();
    let convChecked = 0;
    for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) for (let y = 0; y < 11; y++) for (let xx = 0; xx < 11; xx++) {
      expect(hwio[((y * 11 + xx) * 3 + i) * 4 + o]).toBe(convW[((o * 3 + i) * 11 + y) * 11 + xx]);
      convChecked++;
    }
    expect(convChecked).toBe(11 * 11 * 3 * 4);
    // fc6: Gemm B is [out 256, in 576] (transB=1) over the NCHW flatten (c*36 + y*6 + x); tfjs rows follow (y*6 + x)*16 + c.
    const gemmNode = graph.nodes.find((nd) => nd.op === 'Gemm')!;
    expect(gemmNode.attrs.transB).toBe(1);
    const fcOnnx = weightOf('Gemm');
    expect(fcOnnx.dims).toEqual([256, 576]);
    const b = floats(fcOnnx);
    const fc6 = model.getLayer('fc6').getWeights()[0];
    expect(fc6.shape).toEqual([576, 256]);
    const k = fc6.dataSync();
    for (const [y, xx, c, j] of [[0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 5], [2, 3, 7, 100], [5, 5, 15, 255]]) {
      expect(k[((y * 6 + xx) * 16 + c) * 256 + j]).toBe(b[j * 576 + c * 36 + y * 6 + xx]);
    }
    model.dispose();
  });
});
