// ONNX files exported by PyTorch (scripts/make-onnx-fixtures.py): ConvScope's imports must reproduce
// PyTorch's recorded outputs, match the zoo where the layout is a zoo model, and survive save + reload.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { importModel, readModelInfo, saveImportedModel } from '../../src-main/engine/import';
import { getModelSpec, loadModel, layerKind, summarizeModel } from '../../src-main/engine/models';
import { formulaInput, nchwToNhwc } from '../fixtures/import/reference';
import { maxAbsDiff } from '../support/arrays';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
let scratch: string;

interface Expected {
  input_shape_nchw: number[];
  output_shape: number[];
  output: number[];
  zoo: { id: string; options: Record<string, number | boolean> } | null;
}

async function expected(name: string): Promise<Expected> {
  return JSON.parse(await readFile(path.join(FIXTURES, `${name}.expected.json`), 'utf8'));
}

function predict(model: tf.LayersModel, nchw: number[]): Float32Array {
  const x = nchwToNhwc(formulaInput(nchw), nchw);
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [nchw[0], nchw[2], nchw[3], nchw[1]])) as tf.Tensor).dataSync() as Float32Array);
}


beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-import-onnx-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe.each(['alexnet-torchvision-small', 'alexnet-grouped-small', 'lenet5'])('PyTorch export %s', (name) => {
  it("reproduces PyTorch's outputs to 1e-4 and reloads from its folder", async () => {
    const exp = await expected(name);
    const before = tf.memory().numTensors;
    const { model, info } = await importModel(path.join(FIXTURES, `${name}.onnx`));
    const y = predict(model, exp.input_shape_nchw);
    expect(maxAbsDiff(y, exp.output)).toBeLessThan(1e-4);
    // The outputs are not degenerate: the two examples differ and no class takes everything.
    expect(maxAbsDiff(y.subarray(0, 10), y.subarray(10))).toBeGreaterThan(1e-3);

    expect(info.source).toMatchObject({ format: 'onnx', producer: 'pytorch 1.13.0', opset: 13 });
    expect(info.input).toEqual({ height: exp.input_shape_nchw[2], width: exp.input_shape_nchw[3], channels: exp.input_shape_nchw[1] });
    expect(info.output.classes).toBe(10);

    const dir = path.join(scratch, name);
    await saveImportedModel({ model, info }, dir);
    const reloaded = await loadModel(dir);
    expect(maxAbsDiff(predict(reloaded, exp.input_shape_nchw), y)).toBe(0);
    expect(await readModelInfo(dir)).toEqual(info);
    reloaded.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('zoo matching', () => {
  it('recognises BVLC-layout AlexNet (groups 2, no LRN, 1/16 width) as the zoo alexnet with those options', async () => {
    const exp = await expected('alexnet-grouped-small');
    const { model, info } = await importModel(path.join(FIXTURES, 'alexnet-grouped-small.onnx'));
    expect(info.zoo).toEqual({ id: 'alexnet', options: exp.zoo!.options, patched: [] });
    expect(info.name).toBe('alexnet');
    // Same layers, names and parameter count as the zoo's own spec with those options.
    const spec = getModelSpec('alexnet', { ...exp.zoo!.options, input: '227x227x3' } as Record<string, number | boolean | string>);
    expect(model.layers.slice(1).map((l) => l.name)).toEqual(spec.layers.map((l) => l.name));
    expect(model.getLayer('conv2').getClassName()).toBe('GroupedConv2D');
    expect(summarizeModel(model).totalParams).toBe(227_314);
    model.dispose();
  });

  it('recognises the LeNet-5 export (with its Shape/Gather/Concat/Reshape flatten) as the zoo lenet5', async () => {
    const { model, info } = await importModel(path.join(FIXTURES, 'lenet5.onnx'));
    expect(info.zoo).toEqual({ id: 'lenet5', options: {}, patched: [] });
    expect(summarizeModel(model).totalParams).toBe(44_426);
    // A grey PyTorch export: pixels scaled to 0-1 as torchvision's ToTensor does (a guess, and noted as one).
    expect(info.preprocessing).toMatchObject({ preset: 'scale', channelOrder: 'gray', scale: 1 / 255 });
    expect(info.notes).toContainEqual(expect.stringMatching(/^the preprocessing 'scale' is a guess/));
    model.dispose();
  });

  it('imports torchvision-layout AlexNet (pad-2 conv1, adaptive avg-pool, logits) as a generic graph with torchvision preprocessing', async () => {
    const { model, info } = await importModel(path.join(FIXTURES, 'alexnet-torchvision-small.onnx'));
    expect(info.zoo).toBeNull();
    expect(info.output.softmax).toBe(false);
    expect(model.layers.map((l) => layerKind(l))).toEqual([
      'input', 'conv', 'maxPool', 'conv', 'maxPool', 'conv', 'conv', 'conv', 'maxPool', 'flatten', 'dense', 'dense', 'dense',
    ]); // the adaptive average pool to 6x6 is a 1x1 identity at 224x224 and is left out
    expect(model.getLayer(model.layers[1].name).getConfig().activation).toBe('relu');
    expect(info.preprocessing).toMatchObject({ preset: 'torchvision-imagenet', channelOrder: 'RGB', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(info.preprocessing.scale).toBeCloseTo(1 / 255, 12);
    expect(info.notes.some((n) => n.includes('weight rows reordered'))).toBe(true);
    // Per-channel std has no exact form in data/preprocess's Preprocessor: model.json does not pretend.
    expect(model.getUserDefinedMetadata()).toEqual({ convscopeImport: 'model-info.json' });
    model.dispose();
  });
});
