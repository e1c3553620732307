// buildModel: built parameter counts equal SEED_FACTS and the spec walk; seeded, reproducible initial weights.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { buildModel, countParams, getModelSpec, layerKind, type Overrides } from '../../src-main/engine/models';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const builtParams = (model: tf.LayersModel) =>
  Object.fromEntries(model.layers.filter((l) => l.countParams() > 0).map((l) => [l.name, l.countParams()]));
const trainable = (model: tf.LayersModel) => model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

describe('buildModel', () => {
  it('lenet5: 44,426 params, per layer as in the notebook, classes and shapes as in the spec', () => {
    const before = tf.memory().numTensors;
    const model = buildModel(getModelSpec('lenet5'), { seed: 1 });
    expect(model.countParams()).toBe(44_426);
    expect(builtParams(model)).toEqual({ conv1: 156, conv2: 2_416, fc1: 30_840, fc2: 10_164, fc3: 850 });
    expect(model.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual([
      'input:InputLayer', 'conv1:Conv2D', 'pool1:MaxPooling2D', 'conv2:Conv2D', 'pool2:MaxPooling2D', 'flatten:Flatten', 'fc1:Dense', 'fc2:Dense', 'fc3:Dense',
    ]);
    const y = tf.tidy(() => model.predict(tf.zeros([3, 28, 28, 1])) as tf.Tensor);
    expect(y.shape).toEqual([3, 10]);
    expect(Array.from(tf.tidy(() => tf.sum(y, 1).dataSync())).every((s) => Math.abs(s - 1) < 1e-5)).toBe(true);
    y.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('alexnet (full size, grouped): 60,965,224 params, per layer as in the paper table; LRN and GroupedConv2D layers', () => {
    const model = buildModel(getModelSpec('alexnet'), { seed: 1 });
    expect(model.countParams()).toBe(60_965_224);
    expect(builtParams(model)).toEqual({
      conv1: 34_944, conv2: 307_456, conv3: 885_120, conv4: 663_936, conv5: 442_624, fc6: 37_752_832, fc7: 16_781_312, fc8: 4_097_000,
    });
    const classes = Object.fromEntries(model.layers.map((l) => [l.name, l.getClassName()]));
    expect(classes).toMatchObject({ conv1: 'Conv2D', lrn1: 'LocalResponseNormalization', conv2: 'GroupedConv2D', conv3: 'Conv2D', conv4: 'GroupedConv2D', conv5: 'GroupedConv2D' });
    expect(model.getLayer('conv2').getWeights()[0].shape).toEqual([5, 5, 48, 256]);
    expect(model.outputs[0].shape).toEqual([null, 1000]);
    model.dispose();
  });

  it('alexnet-blog (full size): 58,327,818 total, 58,325,066 trainable', () => {
    const model = buildModel(getModelSpec('alexnet-blog'), { seed: 1 });
    expect(model.countParams()).toBe(58_327_818);
    expect(trainable(model)).toBe(58_325_066);
    model.dispose();
  });

  const variants: [string, Overrides][] = [
    ['lenet5', { dropout: 0.2, batchNorm: true }],
    ['lenet5', { input: '32x32x3', overlap: true, width: 1.5, classes: 4 }],
    ['alexnet', { width: 0.125, input: '99x99x3', classes: 7 }],
    ['alexnet', { width: 0.125, input: '99x99x3', grouped: false, overlap: false, batchNorm: true, lrn: false }],
    ['alexnet-blog', { width: 0.125, input: '99x99x1', lrn: true, overlap: true }],
    ['alexnet-blog', { width: 0.1, input: '80x80x3', batchNorm: false }],
  ];
  it.each(variants)('countParams(spec) equals the built model for %s %j', (id, overrides) => {
    const spec = getModelSpec(id, overrides);
    const model = buildModel(spec, { seed: 3 });
    expect(countParams(spec)).toEqual({ total: model.countParams(), trainable: trainable(model), nonTrainable: model.countParams() - trainable(model) });
    expect(model.outputs[0].shape).toEqual([null, spec.classes]);
    model.dispose();
  });

  it('numeric padding that Conv2D cannot express builds a GroupedConv2D with the right output shape', () => {
    const base = getModelSpec('lenet5');
    const layers = base.layers.map((l) => (l.kind === 'conv' && l.name === 'conv1' ? { ...l, padding: 3 } : l));
    const model = buildModel({ ...base, layers }, { seed: 0 });
    expect(model.getLayer('conv1').getClassName()).toBe('GroupedConv2D');
    expect(model.getLayer('conv1').outputShape).toEqual([null, 30, 30, 6]); // 28 + 2*3 - 5 + 1
    expect(layerKind(model.getLayer('conv1'))).toBe('conv');
    model.dispose();
  });

  it('refuses an impossible spec before allocating anything', () => {
    const spec = getModelSpec('lenet5');
    const before = tf.memory().numTensors;
    expect(() => buildModel({ ...spec, input: [6, 6, 1] }, { seed: 0 })).toThrow(/layer conv2 .* cannot take input/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('seeded initialisation', () => {
  const weightsOf = (overrides: Overrides, seed: number) => {
    const model = buildModel(getModelSpec('alexnet', { width: 0.125, input: '67x67x3', classes: 5, ...overrides }), { seed });
    const weights = Object.fromEntries(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    model.dispose();
    return weights;
  };

  it('the same seed gives identical weights, another seed different ones', () => {
    const a = weightsOf({}, 42);
    expect(weightsOf({}, 42)).toEqual(a);
    const b = weightsOf({}, 43);
    expect(b['conv1/kernel']).not.toEqual(a['conv1/kernel']);
    expect(b['fc7/kernel']).not.toEqual(a['fc7/kernel']);
  });

  it("a layer's initial weights do not depend on which other layers the options add", () => {
    const plain = weightsOf({ lrn: false }, 5);
    const withBn = weightsOf({ lrn: true, batchNorm: true }, 5);
    expect(withBn['conv3/kernel']).toEqual(plain['conv3/kernel']);
  });

  it('init=paper: weights N(0, 0.01), biases 1 in conv2/4/5, fc6, fc7 and 0 in conv1, conv3, fc8', () => {
    const w = weightsOf({ init: 'paper' }, 7);
    for (const name of ['conv2', 'conv4', 'conv5', 'fc6', 'fc7']) expect(new Set(w[`${name}/bias`])).toEqual(new Set([1]));
    for (const name of ['conv1', 'conv3', 'fc8']) expect(new Set(w[`${name}/bias`])).toEqual(new Set([0]));
    const k = w['fc6/kernel'];
    const mean = k.reduce((s, v) => s + v, 0) / k.length;
    const std = Math.sqrt(k.reduce((s, v) => s + (v - mean) ** 2, 0) / k.length);
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(std).toBeGreaterThan(0.0095);
    expect(std).toBeLessThan(0.0105);
  });

  it('init=glorot (default): uniform within the Glorot limit, zero biases', () => {
    const w = weightsOf({}, 7);
    const k = w['fc7/kernel']; // 512 x 512 at width 0.125
    const limit = Math.sqrt(6 / (512 + 512));
    const largest = k.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(largest).toBeLessThanOrEqual(limit);
    expect(largest).toBeGreaterThan(0.95 * limit);
    expect(new Set(w['conv2/bias'])).toEqual(new Set([0]));
  });
});
