// The arithmetic of a unit must arrive at the value the engine computed for that unit (1e-5), on the
// bundled LeNet-5, the paper's AlexNet (groups, LRN, overlapping pools) at a small size, and an imported
// torchvision-layout AlexNet (padded convs, separate ReLU layers).
import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec, layerKind } from '../../src-main/engine/models';
import { importModel } from '../../src-main/engine/import';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { unitArithmetic, type UnitArithmetic } from '../../src-main/engine/inspect/unit-arithmetic';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
const LENET = path.resolve(import.meta.dirname, '../../resources/pretrained/lenet5-mnist');

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

/** Corners, centre and a few channels of every conv, pooling, dense and LRN layer. */
async function checkAllLayers(model: tf.LayersModel, x: tf.Tensor4D): Promise<Map<string, UnitArithmetic[]>> {
  const seen = new Map<string, UnitArithmetic[]>();
  for (const layer of model.layers) {
    if (!['conv', 'maxPool', 'avgPool', 'dense', 'lrn'].includes(layerKind(layer))) continue;
    const shape = layer.outputShape as number[];
    const [h, w, c] = shape.length === 2 ? [1, 1, shape[1]] : [shape[1], shape[2], shape[3]];
    const units = [
      [0, 0, 0],
      [h - 1, w - 1, c - 1],
      [Math.floor(h / 2), Math.floor(w / 2), Math.floor(c / 2)],
      [0, w - 1, Math.floor(c / 3)],
      [h - 1, 0, c - 2],
    ];
    const results: UnitArithmetic[] = [];
    for (const [y, xx, ch] of units) {
      const r = await unitArithmetic(model, x, { layer: layer.name, y, x: xx, channel: ch });
      if (!close(r.output, r.engineOutput)) throw new Error(`${layer.name} (${y}, ${xx}, ${ch}): arithmetic ${r.output}, engine ${r.engineOutput}`);
      if (r.kind === 'conv') {
        expect(r.channelSums.reduce((a, b) => a + b, 0)).toBeCloseTo(r.sum, 3);
        expect(r.preActivation).toBeCloseTo(r.sum + r.bias, 5);
      }
      results.push(r);
    }
    seen.set(layer.name, results);
  }
  return seen;
}

describe('unit arithmetic', () => {
  it('agrees with the engine on the bundled LeNet-5', async () => {
    const m = await resolveModel(LENET);
    const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const seen = await checkAllLayers(m.model, x);
    expect(tf.memory().numTensors).toBe(before);
    expect([...seen.keys()]).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'fc1', 'fc2', 'fc3']);
    const conv2 = seen.get('conv2')![0];
    if (conv2.kind !== 'conv') throw new Error('conv2 is a conv');
    // 5x5 over all 6 channels of pool1, tanh.
    expect([conv2.inputLayer, conv2.patch.length, conv2.inputChannels, conv2.activation, conv2.window.top, conv2.window.left]).toEqual(['pool1', 150, [0, 1, 2, 3, 4, 5], 'tanh', 0, 0]);
    const pool = seen.get('pool2')![1];
    if (pool.kind !== 'pool') throw new Error('pool2 pools');
    expect(pool.output).toBe(pool.values[pool.winner!.dy * 2 + pool.winner!.dx]);
    const fc3 = seen.get('fc3')![0];
    if (fc3.kind !== 'dense') throw new Error('fc3 is dense');
    expect([fc3.activation, fc3.inputCount, fc3.top.length]).toEqual(['softmax', 84, 10]);
    expect(fc3.top.reduce((a, t) => a + t.product, 0) + fc3.rest).toBeCloseTo(fc3.sum, 5);
    tf.dispose([x]);
    m.model.dispose();
  });

  it('agrees with the engine on the paper’s AlexNet: grouped convolutions and LRN', async () => {
    const model = buildModel(getModelSpec('alexnet', { width: 0.0625, input: '99x99x3', classes: 10 }), { seed: 1 });
    const x = tf.randomUniform([1, 99, 99, 3], 0, 40, 'float32', 6) as tf.Tensor4D;
    const seen = await checkAllLayers(model, x);
    expect([...seen.keys()]).toEqual(['conv1', 'lrn1', 'pool1', 'conv2', 'lrn2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc6', 'fc7', 'fc8']);
    // conv2 has 2 groups: a unit of the second half reads only the second half of pool1's channels.
    const last = seen.get('conv2')![1];
    if (last.kind !== 'conv') throw new Error('conv2 is a conv');
    expect([last.group, last.inputChannels]).toEqual([{ index: 1, count: 2 }, [3, 4, 5]]);
    // 5x5, 'same' padding of 2: the corner unit's window starts two rows and columns above the input.
    const first = seen.get('conv2')![0];
    if (first.kind !== 'conv') throw new Error('conv2 is a conv');
    expect([first.window.top, first.window.left, first.window.height]).toEqual([-2, -2, 5]);
    expect(first.patch[0]).toBe(0);
    const lrn = seen.get('lrn1')![2];
    if (lrn.kind !== 'lrn') throw new Error('lrn1 normalises');
    expect([lrn.depthRadius, lrn.bias, lrn.alpha, lrn.beta, lrn.channels]).toEqual([2, 2, 1e-4, 0.75, [1, 2, 3, 4, 5]]);
    expect(lrn.output).not.toBeCloseTo(lrn.centre, 3);
    x.dispose();
    model.dispose();
  });

  it('agrees with the engine on an imported torchvision-layout AlexNet', async () => {
    const { model } = await importModel(path.join(FIXTURES, 'alexnet-torchvision-small.onnx'));
    const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const seen = await checkAllLayers(model, x);
    expect(seen.size).toBeGreaterThanOrEqual(8);
    x.dispose();
    model.dispose();
  });

  it('refuses layers it does not cover and units outside the output, in one line', async () => {
    const model = buildModel(getModelSpec('lenet5', {}), { seed: 1 });
    const x = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
    await expect(unitArithmetic(model, x, { layer: 'flatten', y: 0, x: 0, channel: 0 })).rejects.toThrow(/Flatten layer; unit arithmetic covers conv, pooling, dense and LRN/);
    await expect(unitArithmetic(model, x, { layer: 'conv1', y: 24, x: 0, channel: 0 })).rejects.toThrow(/lies outside conv1's 24x24x6 output/);
    await expect(unitArithmetic(model, x, { layer: 'nope', y: 0, x: 0, channel: 0 })).rejects.toThrow(/no layer 'nope'/);
    x.dispose();
    model.dispose();
  });
});
