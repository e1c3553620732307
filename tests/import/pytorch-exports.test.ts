// Common PyTorch exports that were refused or imported wrongly (issue 17, section 5), each checked against
// PyTorch's own outputs (scripts/make-pytorch-export-fixtures.py wrote the files and the outputs):
// default nn.AvgPool2d (an all-zero Pad before AveragePool), ReLU6 (Clip), dilated convolutions, weights in
// an external data file, a paper-layout AlexNet from PyTorch (torchvision preprocessing, not Caffe's), a
// static-batch export (refused, with what to do), a 1-channel model trained on 0-1 pixels, and torch's
// nn.LocalResponseNorm, which torch writes as its definition (Mul ... Pow, Div) instead of an LRN node.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src-main/engine/tf';
import { importModel, ImportOptionsError, saveImportedModel, type ImportOptions } from '../../src-main/engine/import';
import { onnxModelType } from '../../src-main/engine/import/onnx-schema';
import { preprocessingFor } from '../../src-main/engine/import/preprocess';
import { gradCam, InspectModelError, resolveModel, saliency } from '../../src-main/engine/inspect';
import { layerKind } from '../../src-main/engine/models';
import { chainLayers, forward } from '../../src-main/engine/train/forward';
import { formulaInput, nchwToNhwc } from '../fixtures/import/reference';
import { maxAbsDiff } from '../support/arrays';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
let scratch: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-pytorch-exports-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Expected {
  input_shape_nchw: number[];
  output: number[];
}

async function expected<T = Expected>(name: string): Promise<T> {
  return JSON.parse(await readFile(path.join(FIXTURES, `${name}.expected.json`), 'utf8')) as T;
}

/** Imports the fixture, runs PyTorch's input through it, returns the worst difference from PyTorch's output. */
async function importAndCompare(name: string, file = path.join(FIXTURES, `${name}.onnx`), options: ImportOptions = {}) {
  const exp = await expected(name);
  const imported = await importModel(file, options);
  const nchw = exp.input_shape_nchw;
  const x = nchwToNhwc(formulaInput(nchw), nchw);
  const before = tf.memory().numTensors;
  const y = tf.tidy(() => (imported.model.predict(tf.tensor4d(x, [nchw[0], nchw[2], nchw[3], nchw[1]])) as tf.Tensor).dataSync() as Float32Array);
  expect(tf.memory().numTensors).toBe(before);
  return { imported, worst: maxAbsDiff(y, exp.output) };
}

describe('PyTorch exports that were refused', () => {
  it("default nn.AvgPool2d (torch's all-zero Pad + AveragePool) and count_include_pad padding: LeNet-5 with average pooling", async () => {
    const { imported, worst } = await importAndCompare('lenet5-avgpool');
    expect(worst).toBeLessThan(1e-4);
    const kinds = imported.model.layers.map(layerKind);
    expect(kinds.filter((k) => k === 'avgPool')).toHaveLength(3);
    // Only AvgPool2d(3, 1, padding=1) pads (its zeros count in the average); the all-zero Pads leave nothing.
    expect(kinds.filter((k) => k === 'zeroPadding')).toHaveLength(1);
    imported.model.dispose();
  });

  it('DenseNet-style: batch norm before convolutions, concatenation, a default nn.AvgPool2d transition', async () => {
    const { imported, worst } = await importAndCompare('densenet-small');
    expect(worst).toBeLessThan(1e-4);
    expect(imported.model.layers.map(layerKind).filter((k) => k === 'batchNorm')).toHaveLength(4);
    imported.model.dispose();
  });

  it('ReLU6 (Clip 0..6), depthwise convolutions and an inverted residual: MobileNetV2-style blocks', async () => {
    const { imported, worst } = await importAndCompare('mobilenet-relu6');
    expect(worst).toBeLessThan(1e-4);
    const relu6 = imported.model.layers.filter((l) => l.getClassName() === 'ReLU');
    expect(relu6.length).toBe(4);
    expect(relu6.every((l) => l.getConfig().maxValue === 6)).toBe(true);
    imported.model.dispose();
  });

  it('dilated convolutions (padded, unpadded, and different per axis), with a note that tfjs has no gradient for them', async () => {
    const { imported, worst } = await importAndCompare('dilated');
    expect(worst).toBeLessThan(1e-4);
    expect(imported.model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig().dilationRate)).toEqual([[2, 2], [2, 2], [1, 3]]);
    expect(imported.info.notes.join('\n')).toMatch(/dilated convolutions .*not their gradients/);
    // Saliency and Grad-CAM refuse in one line instead of failing inside tfjs' gradient with a stack.
    const x = tf.zeros([1, 20, 20, 3]) as tf.Tensor4D;
    await expect(saliency(imported.model, x)).rejects.toThrow(InspectModelError);
    await expect(gradCam(imported.model, x)).rejects.toThrow(/^saliency and Grad-CAM need gradients, which TensorFlow\.js does not compute through dilated convolutions \(conv1_Conv, conv2_Conv, conv3_Conv\)$/);
    x.dispose();
    imported.model.dispose();
  });

  it('dilated convolutions and ReLU6 compute the same on the wasm backend (dilation is supported for inference there)', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    try {
      for (const name of ['dilated', 'mobilenet-relu6']) {
        const { imported, worst } = await importAndCompare(name);
        expect(tf.getBackend()).toBe('wasm');
        expect(worst).toBeLessThan(1e-4);
        imported.model.dispose();
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('weights in an external data file beside the model', async () => {
    const { imported, worst } = await importAndCompare('external-data');
    expect(worst).toBeLessThan(1e-4);
    imported.model.dispose();
  });
});

describe('external data is read only from inside the model folder', () => {
  /** The fixture with every tensor's location replaced, written into a fresh folder with its data file. */
  async function withLocation(location: string, dirName: string): Promise<string> {
    const dir = path.join(scratch, dirName);
    await mkdir(dir, { recursive: true });
    const type = onnxModelType();
    const model = type.decode(await readFile(path.join(FIXTURES, 'external-data.onnx'))) as unknown as { graph: { initializer: { external_data: { key: string; value: string }[] }[] } };
    for (const t of model.graph.initializer) for (const e of t.external_data) if (e.key === 'location') e.value = location;
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, type.encode(model as never).finish());
    await copyFile(path.join(FIXTURES, 'external-data.onnx.data'), path.join(dir, 'external-data.onnx.data'));
    return file;
  }

  it('refuses .. and absolute locations, and names the problem', async () => {
    await writeFile(path.join(scratch, 'secret.bin'), Buffer.alloc(8192, 7));
    await expect(importModel(await withLocation('../secret.bin', 'dotdot'))).rejects.toThrow(/external data location '\.\.\/secret\.bin' is not a file inside the model's folder/);
    await expect(importModel(await withLocation(path.join(scratch, 'secret.bin'), 'absolute'))).rejects.toThrow(/is not a file inside the model's folder \(no absolute paths/);
    await expect(importModel(await withLocation('sub/../../secret.bin', 'nested'))).rejects.toThrow(/not a file inside the model's folder/);
  });

  it('refuses a symlink that leads out of the folder, and a missing data file', async () => {
    const file = await withLocation('link.data', 'symlinked');
    await symlink(path.join(FIXTURES, 'external-data.onnx.data'), path.join(path.dirname(file), 'link.data'));
    await expect(importModel(file)).rejects.toThrow(/external data file 'link\.data' leads outside the model's folder/);
    await expect(importModel(await withLocation('absent.data', 'missing'))).rejects.toThrow(/external data file 'absent\.data' does not exist beside the model/);
  });

  it('reads a relative location in a subfolder, and refuses a range past the end of the file', async () => {
    const file = await withLocation('weights/w.data', 'subfolder');
    await mkdir(path.join(path.dirname(file), 'weights'));
    await copyFile(path.join(FIXTURES, 'external-data.onnx.data'), path.join(path.dirname(file), 'weights', 'w.data'));
    const ok = await importAndCompare('external-data', file);
    expect(ok.worst).toBeLessThan(1e-4);
    ok.imported.model.dispose();
    await writeFile(path.join(path.dirname(file), 'weights', 'w.data'), Buffer.alloc(100));
    await expect(importModel(file)).rejects.toThrow(/its external data \(offset \d+, length \d+\) lies outside 'weights\/w\.data' \(100 bytes; truncated\?\)/);
  });
});

describe('a paper-layout AlexNet (LRN, grouped convolutions) exported from PyTorch', () => {
  it("is the zoo's alexnet with torchvision's preprocessing: the producer decides, conv1 keeps its channels, and the guess says so", async () => {
    const { imported, worst } = await importAndCompare('alexnet-paper-small');
    expect(imported.info.zoo).toMatchObject({ id: 'alexnet', options: { width: 0.0625, dropout: 0, classes: 10 } });
    expect(worst).toBeLessThan(1e-4);
    expect(imported.info.preprocessing).toMatchObject({ preset: 'torchvision-imagenet', channelOrder: 'RGB', resizeShorterSide: 256 });
    const notes = imported.info.notes.join('\n');
    expect(notes).not.toMatch(/BGR/);
    expect(notes).toMatch(/the preprocessing 'torchvision-imagenet' is a guess \(exported from PyTorch \(producer 'pytorch 1\.13\.0'\)/);
    imported.model.dispose();
  });

  it('given as caffe-imagenet, it takes BGR: conv1 is reordered and no guess is noted', async () => {
    const imported = await importModel(path.join(FIXTURES, 'alexnet-paper-small.onnx'), { preprocess: 'caffe-imagenet' });
    expect(imported.info.preprocessing.preset).toBe('caffe-imagenet');
    expect(imported.info.notes.join('\n')).toMatch(/reordered from BGR/);
    expect(imported.info.notes.join('\n')).not.toMatch(/is a guess/);
    imported.model.dispose();
  });
});

describe("torch's nn.LocalResponseNorm (exported as Mul, Unsqueeze, Reshape, Pad, AveragePool, Squeeze or If, Reshape, Mul, Add, Pow, Div)", () => {
  const OPSETS = ['lrn-opset9', 'lrn-opset11', 'lrn-opset13', 'lrn-opset17'];
  /** LocalResponseNorm(5, alpha 0.3, beta 0.75, k 2) and (3, 1.0, 0.6, 1): depthRadius (n-1)/2, alpha / n. */
  const LRN_PARAMS = [
    { depthRadius: 2, bias: 2, alpha: 0.3 / 5, beta: 0.75 },
    { depthRadius: 1, bias: 1, alpha: 1 / 3, beta: 0.6 },
  ];

  function lrnLayers(model: tf.LayersModel) {
    return model.layers.filter((l) => layerKind(l) === 'lrn').map((l) => {
      const c = l.getConfig();
      return { depthRadius: c.depthRadius, bias: c.bias, alpha: c.alpha, beta: c.beta };
    });
  }

  it('each opset (9, 11, 13, 17; folded or not; dynamic or static batch) imports as one LRN layer per module and matches PyTorch', async () => {
    for (const name of OPSETS) {
      const { imported, worst } = await importAndCompare(name);
      expect(worst, name).toBeLessThan(1e-4);
      expect(imported.model.layers.map(layerKind), name).toEqual(['input', 'conv', 'lrn', 'maxPool', 'conv', 'lrn', 'flatten', 'dense']);
      const params = lrnLayers(imported.model);
      params.forEach((p, i) => expect(p, name).toMatchObject({ ...LRN_PARAMS[i], alpha: expect.closeTo(LRN_PARAMS[i].alpha, 7) }));
      expect(imported.info.notes.join('\n'), name).toMatch(/\/lrn2\/LocalResponseNorm: torch's LocalResponseNorm decomposition \(\d+ nodes\) read as one LRN: size 3, alpha 1, beta 0\.6, k 1/);
      expect(imported.info.zoo, name).toBeNull();
      imported.model.dispose();
    }
  });

  it('the same on the wasm backend (the four opsets and the AlexNet)', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    try {
      for (const name of OPSETS) {
        const { imported, worst } = await importAndCompare(name);
        expect(tf.getBackend()).toBe('wasm');
        expect(worst, name).toBeLessThan(1e-4);
        imported.model.dispose();
      }
      const { logitError } = await alexnetLogits();
      expect(logitError).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  /** The 1/16-width paper AlexNet's logits (fc8 before the zoo model's softmax) against PyTorch's. */
  async function alexnetLogits() {
    const exp = await expected<Expected & { zoo: { id: string; options: Record<string, unknown> } }>('alexnet-paper-torchlrn');
    const imported = await importModel(path.join(FIXTURES, 'alexnet-paper-torchlrn.onnx'));
    const nchw = exp.input_shape_nchw;
    const x = tf.tensor4d(nchwToNhwc(formulaInput(nchw), nchw), [nchw[0], nchw[2], nchw[3], nchw[1]]);
    const logits = tf.tidy(() => forward(chainLayers(imported.model), x, { training: false, logits: true }).dataSync() as Float32Array);
    x.dispose();
    imported.model.dispose();
    return { imported, exp, logits, logitError: maxAbsDiff(logits, exp.output) };
  }

  it("a paper-layout AlexNet written with nn.LocalResponseNorm and groups=2 is the zoo's alexnet, with torchvision's preprocessing", async () => {
    const { imported, exp, logits, logitError } = await alexnetLogits();
    expect(imported.info.zoo).toMatchObject({ id: 'alexnet', options: exp.zoo.options });
    expect(imported.info.zoo!.patched).toEqual(['lrn1: depthRadius 2, bias 2, alpha 0.00002, beta 0.75', 'lrn2: depthRadius 2, bias 2, alpha 0.00002, beta 0.75']);
    expect(logitError).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.subarray(0, 10), logits.subarray(10))).toBeGreaterThan(1e-3); // two different examples
    expect(imported.info.preprocessing).toMatchObject({ preset: 'torchvision-imagenet', channelOrder: 'RGB' });
    expect(imported.info.notes.join('\n')).not.toMatch(/BGR/);
  });

  it("an even size is refused: torch's window is then one channel longer before than after, tfjs' LRN window is symmetric", async () => {
    const err = await importModel(path.join(FIXTURES, 'lrn-even-size.onnx')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^AveragePool node \/lrn\/AveragePool: size 4 is even: torch's window then spans 2 channels before and 1 after, and TensorFlow\.js' LRN window is symmetric \(odd sizes only\) \(reading Mul node \/lrn\/Mul onwards/);
    expect((err as Error).message.split('\n')).toHaveLength(1);
  });

  // ---- a chain that is not torch's definition: refused in one line naming the node ----

  type Proto = { graph: { node: { name: string; op_type: string; input: string[]; attribute: { name: string; ints: number[]; t: { dims: number[]; raw_data: Uint8Array }; g: { node: { op_type: string; attribute: { t: { raw_data: Uint8Array } }[] }[] } }[] }[] } };

  /** lrn-opset13 with `edit` applied to the node named `name`, written to the scratch folder. */
  async function edited(file: string, name: string, edit: (node: Proto['graph']['node'][number]) => void): Promise<string> {
    const type = onnxModelType();
    const model = type.decode(await readFile(path.join(FIXTURES, 'lrn-opset13.onnx'))) as unknown as Proto;
    const node = model.graph.node.find((n) => n.name === name);
    expect(node, name).toBeDefined();
    edit(node!);
    const out = path.join(scratch, file);
    await writeFile(out, type.encode(model as never).finish());
    return out;
  }

  const float32Bytes = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

  async function refusal(file: string): Promise<string> {
    const err = await importModel(file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/\(reading Mul node \/lrn1\/Mul onwards as torch's nn\.LocalResponseNorm/);
    return message;
  }

  it('an AveragePool window that does not fit the pads', async () => {
    const file = await edited('lrn-kernel3.onnx', '/lrn1/AveragePool', (n) => (n.attribute.find((a) => a.name === 'kernel_shape')!.ints = [3, 1, 1]));
    expect(await refusal(file)).toMatch(/^Pad node \/lrn1\/Pad: its pads 0,0,2,0,0,0,0,2,0,0 are not 0,0,1,0,0,0,0,1,0,0, the window of the 3x1x1 AveragePool node \/lrn1\/AveragePool/);
  });

  it('a Div that divides another tensor than the one squared', async () => {
    const file = await edited('lrn-div.onnx', '/lrn1/Div', (n) => (n.input[0] = '/conv1/Conv_output_0'));
    expect(await refusal(file)).toMatch(/^Div node \/lrn1\/Div: it must divide \/Relu_output_0 \(what Mul node \/lrn1\/Mul squares\)/);
  });

  it('alpha given as two values instead of one', async () => {
    const file = await edited('lrn-alpha2.onnx', '/lrn1/Constant_15', (n) => {
      n.attribute[0].t.dims = [2];
      n.attribute[0].t.raw_data = float32Bytes(0.3, 0.3);
    });
    expect(await refusal(file)).toMatch(/^Mul node \/lrn1\/Mul_1: its other factor \(alpha\) must be one float constant/);
  });

  it('an If whose then branch squeezes another axis', async () => {
    const file = await edited('lrn-squeeze2.onnx', '/lrn1/If', (n) => {
      const then = n.attribute.find((a) => a.name === 'then_branch')!.g;
      then.node.find((m) => m.op_type === 'Constant')!.attribute[0].t.raw_data = new Uint8Array(new BigInt64Array([2n]).buffer);
    });
    expect(await refusal(file)).toMatch(/^If node \/lrn1\/If: its then branch must squeeze axis 1/);
  });

  it('the constants matter: alpha x 5 in the file is read as such and moves the outputs away from PyTorch', async () => {
    const file = await edited('lrn-alpha5.onnx', '/lrn1/Constant_15', (n) => (n.attribute[0].t.raw_data = float32Bytes(1.5)));
    const { imported, worst } = await importAndCompare('lrn-opset13', file);
    expect(lrnLayers(imported.model)[0].alpha).toBeCloseTo(1.5 / 5, 7);
    expect(worst).toBeGreaterThan(1e-2);
    imported.model.dispose();
  });
});

describe('a static-batch export', () => {
  it('is refused with what to do: export with batch 1 or a dynamic batch axis', async () => {
    const err = await importModel(path.join(FIXTURES, 'static-batch8.onnx')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/reshaping across the batch axis \(to 8x-1\) is not supported \(the file was exported with a fixed batch of 8/);
    expect((err as Error).message).toMatch(/export the model with batch 1 .* or with a dynamic batch axis/);
    expect((err as Error).message.split('\n')).toHaveLength(1);
  });
});

describe('preprocessing that fits the model', () => {
  it('an ImageNet preset resizes the shorter side to round(input x 256 / 224): 37 for 32x32, 73 for 64x64, 256 for 224-227', () => {
    expect(preprocessingFor('torchvision-imagenet', [32, 32, 3]).resizeShorterSide).toBe(37);
    expect(preprocessingFor('caffe-imagenet', [64, 64, 3]).resizeShorterSide).toBe(73);
    expect(preprocessingFor('torchvision-imagenet', [224, 224, 3]).resizeShorterSide).toBe(256);
    expect(preprocessingFor('caffe-imagenet', [227, 227, 3]).resizeShorterSide).toBe(256);
    expect(preprocessingFor('scale', [28, 28, 1])).toMatchObject({ channelOrder: 'gray', scale: 1 / 255, mean: [0], std: [1], resizeShorterSide: null });
  });

  it('an imported 32x32 PyTorch model gets S = 37', async () => {
    const imported = await importModel(path.join(FIXTURES, 'mobilenet-relu6.onnx'));
    expect(imported.info.preprocessing).toMatchObject({ preset: 'torchvision-imagenet', resizeShorterSide: 37 });
    imported.model.dispose();
  });

  it('refuses at import time a preset or a mean/std that does not fit the channels', async () => {
    const mnist = path.join(FIXTURES, 'mnist-01.onnx');
    await expect(importModel(mnist, { preprocess: 'torchvision-imagenet' })).rejects.toThrow(ImportOptionsError);
    await expect(importModel(mnist, { preprocess: 'caffe-imagenet' })).rejects.toThrow(/--preprocess caffe-imagenet is for 3-channel \(RGB\) models; this model takes 1 channel: use scale, none, or --mean\/--std with 1 value each/);
    await expect(importModel(mnist, { preprocess: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } })).rejects.toThrow(/one value per input channel: this model takes 1, given 3 means and 3 stds/);
    await expect(importModel(mnist, { preprocess: { mean: [0.5], std: [0] } })).rejects.toThrow(/--std numbers > 0/);
    await expect(importModel(path.join(FIXTURES, 'mobilenet-relu6.onnx'), { preprocess: { mean: [0.5], std: [0.2] } })).rejects.toThrow(/this model takes 3, given 1 mean and 1 std/);
  });
});

describe('a 1-channel MNIST-style PyTorch model trained on 0-1 pixels', () => {
  interface MnistExpected {
    output_scaled: number[];
    output_normalised: number[];
    normalise: { mean: number; std: number };
  }

  /** The fixture's 28x28 grey image as a PNG (bytes from the formula the script used). */
  async function mnistPng(): Promise<string> {
    const bytes = Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => (i * 37 + Math.floor(i / 28) * 11) % 256));
    const file = path.join(scratch, 'digit.png');
    await writeFile(file, await sharp(bytes, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer());
    return file;
  }

  async function outputsThroughFolder(options: ImportOptions, dirName: string): Promise<{ y: Float32Array; preset: string }> {
    const imported = await importModel(path.join(FIXTURES, 'mnist-01.onnx'), options);
    const dir = path.join(scratch, dirName);
    try {
      await saveImportedModel(imported, dir);
    } finally {
      imported.model.dispose();
    }
    const resolved = await resolveModel(dir);
    try {
      const input = await resolved.prepare.prepare(await mnistPng());
      const y = tf.tidy(() => (resolved.model.predict(input.x) as tf.Tensor).dataSync() as Float32Array);
      input.x.dispose();
      return { y, preset: imported.info.preprocessing.preset };
    } finally {
      resolved.model.dispose();
    }
  }

  it("with --preprocess scale (also PyTorch's 1-channel guess), an image file gives PyTorch's outputs for pixels / 255", async () => {
    const exp = await expected<MnistExpected>('mnist-01');
    const given = await outputsThroughFolder({ preprocess: 'scale' }, 'mnist-scale');
    expect(maxAbsDiff(given.y, exp.output_scaled)).toBeLessThan(1e-4);
    const guessed = await outputsThroughFolder({}, 'mnist-guess');
    expect(guessed.preset).toBe('scale');
    expect(maxAbsDiff(guessed.y, exp.output_scaled)).toBeLessThan(1e-4);
  });

  it("with --mean 0.1307 --std 0.3081, PyTorch's outputs for Normalize(mean, std) of pixels / 255", async () => {
    const exp = await expected<MnistExpected>('mnist-01');
    const { y, preset } = await outputsThroughFolder({ preprocess: { mean: [exp.normalise.mean], std: [exp.normalise.std] } }, 'mnist-normalise');
    expect(preset).toBe('normalize');
    expect(maxAbsDiff(y, exp.output_normalised)).toBeLessThan(1e-4);
  });
});
