// Activations, statistics, saliency and Grad-CAM against hand computations on small models with set weights.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { computeActivations } from '../../src-main/engine/inspect/activations';
import { gradCam, saliency, scoreKind, spatialLayers } from '../../src-main/engine/inspect/gradients';
import { activationStats, saturatedFraction, zeroChannels } from '../../src-main/engine/inspect/layer-stats';
import { toProbabilities, topK } from '../../src-main/engine/inspect/predictions';
import { ClassChoiceError, LayerChoiceError } from '../../src-main/engine/inspect/errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Deterministic pseudo-random numbers in [-1, 1). */
function numbers(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function setWeights(layer: tf.layers.Layer, arrays: { values: Float32Array; shape: number[] }[]) {
  const ts = arrays.map((a) => tf.tensor(a.values, a.shape));
  layer.setWeights(ts);
  tf.dispose(ts);
}

describe('computeActivations', () => {
  it('gives a conv layer output equal to the convolution computed by hand', async () => {
    const input = tf.input({ shape: [5, 5, 2] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' });
    const pool = tf.layers.maxPooling2d({ poolSize: 3, name: 'p1' });
    const dense = tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' });
    const out = dense.apply(tf.layers.flatten({ name: 'f' }).apply(pool.apply(conv.apply(input)))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const k = numbers(3 * 3 * 2 * 3, 1);
    const b = numbers(3, 2);
    setWeights(conv, [
      { values: k, shape: [3, 3, 2, 3] },
      { values: b, shape: [3] },
    ]);
    const xv = numbers(5 * 5 * 2, 3);
    const x = tf.tensor4d(xv, [1, 5, 5, 2]);

    const { layers, output } = await computeActivations(model, x);
    expect(layers.map((l) => l.name)).toEqual(['c1', 'p1', 'f', 'out']);
    const c1 = layers[0];
    expect(c1.shape).toEqual([3, 3, 3]);
    expect([c1.className, c1.kind, c1.activation]).toEqual(['Conv2D', 'conv', 'relu']);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        for (let f = 0; f < 3; f++) {
          let s = b[f];
          for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) for (let c = 0; c < 2; c++) s += xv[((i + dy) * 5 + (j + dx)) * 2 + c] * k[((dy * 3 + dx) * 2 + c) * 3 + f];
          expect(c1.values[(i * 3 + j) * 3 + f]).toBeCloseTo(Math.max(0, s), 5);
        }
      }
    }
    // The pool layer takes the max of the 3x3 map per channel.
    for (let f = 0; f < 3; f++) expect(layers[1].values[f]).toBeCloseTo(Math.max(...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((p) => c1.values[p * 3 + f])), 6);
    expect(output.name).toBe('out');
    expect(output.values.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    x.dispose();
    model.dispose();
  });

  it('rejects a batch of more than one image', async () => {
    const input = tf.input({ shape: [2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    const x = tf.zeros([2, 2]);
    await expect(computeActivations(model, x)).rejects.toThrow(/batch of one/);
    x.dispose();
  });
});

describe('layer statistics', () => {
  it('computes min, max, mean and the zero fraction', () => {
    expect(activationStats(Float32Array.from([0, 2, -1, 0, 4]))).toEqual({ min: -1, max: 4, mean: 1, zeroFraction: 0.4 });
  });

  it('finds channels that are zero at every position', () => {
    // [2, 2, 3]: channel 1 never fires, channel 2 fires once.
    const v = Float32Array.from([1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 5]);
    expect(zeroChannels(v, [2, 2, 3])).toEqual([1]);
    expect(zeroChannels(Float32Array.from([0, 3, 0]), [3])).toEqual([0, 2]);
  });

  it('agrees with a plain loop on large arrays (the SIMD path): tails, NaN skipped by min and max, -0, infinities', () => {
    for (const n of [1, 3, 4, 7, 4099, 290400]) {
      const v = new Float32Array(n);
      let s = 12345 + n;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        v[i] = s % 3 === 0 ? 0 : (s / 2 ** 32 - 0.3) * 50;
      }
      if (n > 10) v.set([-0, Infinity, -7e30], n - 3);
      let [min, max, sum, zeros] = [Infinity, -Infinity, 0, 0];
      for (const x of v) {
        if (x < min) min = x;
        if (x > max) max = x;
        sum += x;
        if (x === 0) zeros++;
      }
      const stats = activationStats(v);
      expect([stats.min, stats.max, stats.zeroFraction]).toEqual([min, max, zeros / n]);
      expect(stats.mean).toBeCloseTo(sum / n, 6);
    }
    const withNaN = Float32Array.from({ length: 9 }, (_, i) => (i === 2 || i === 7 ? NaN : i - 4));
    const stats = activationStats(withNaN);
    expect([stats.min, stats.max]).toEqual([-4, 4]);
    expect(stats.mean).toBeNaN();
  });

  it('finds dead channels on large arrays and any channel count (the SIMD path with a tail)', () => {
    for (const c of [1, 5, 96, 131]) {
      const positions = 700;
      const v = new Float32Array(positions * c);
      for (let p = 0; p < positions; p++) for (let j = 0; j < c; j++) v[p * c + j] = j % 3 === 1 ? -Math.random() : p === positions - 1 || j % 7 ? Math.random() - 0.5 : 0;
      const want: number[] = [];
      for (let j = 0; j < c; j++) if (!Array.from({ length: positions }, (_, p) => v[p * c + j]).some((x) => x > 0)) want.push(j);
      expect(zeroChannels(v, [positions, c])).toEqual(want);
    }
  });

  it('counts saturated tanh and sigmoid units', () => {
    expect(saturatedFraction(Float32Array.from([0.98, -0.99, 0.5, -0.9]), 'tanh')).toBe(0.5);
    expect(saturatedFraction(Float32Array.from([0.01, 0.5, 0.99, 0.96]), 'sigmoid')).toBe(0.5);
  });
});

describe('predictions', () => {
  it('ranks classes with their names and turns logits into probabilities', () => {
    const probs = toProbabilities(Float32Array.from([0, Math.log(3), 0]), false);
    expect(Array.from(probs).map((p) => +p.toFixed(6))).toEqual([0.2, 0.6, 0.2]);
    expect(topK(probs, 2, ['cat', 'dog', 'cow'])).toEqual([
      { index: 1, label: 'dog', prob: probs[1] },
      { index: 0, label: 'cat', prob: probs[0] },
    ]);
    expect(topK(probs, 1)[0].label).toBe('class 1');
  });
});

/** input [h, w, c] -> flatten -> dense(classes, softmax): a linear model whose logits are W^T x + b. */
function linearModel(h: number, w: number, c: number, classes: number, seed: number) {
  const input = tf.input({ shape: [h, w, c] });
  const dense = tf.layers.dense({ units: classes, activation: 'softmax', name: 'logits' });
  const model = tf.model({ inputs: input, outputs: dense.apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor });
  const W = numbers(h * w * c * classes, seed);
  setWeights(dense, [
    { values: W, shape: [h * w * c, classes] },
    { values: numbers(classes, seed + 1), shape: [classes] },
  ]);
  return { model, W };
}

describe('saliency', () => {
  it('of a linear model is |its weights| for the class (max over channels)', async () => {
    const [h, w, c, classes] = [4, 5, 3, 6];
    const { model, W } = linearModel(h, w, c, classes, 7);
    expect(scoreKind(model)).toBe('logit');
    const x = tf.tensor4d(numbers(h * w * c, 9), [1, h, w, c]);
    for (const cls of [0, 4]) {
      const s = await saliency(model, x, { classIndex: cls });
      expect([s.height, s.width, s.classIndex, s.score]).toEqual([h, w, cls, 'logit']);
      for (let p = 0; p < h * w; p++) {
        const expected = Math.max(...[0, 1, 2].map((ch) => Math.abs(W[(p * c + ch) * classes + cls])));
        expect(s.values[p]).toBeCloseTo(expected, 6);
      }
    }
    // Default class: the top prediction.
    const top = (await computeActivations(model, x)).output.values;
    const s = await saliency(model, x);
    expect(s.classIndex).toBe(top.indexOf(Math.max(...top)));
    x.dispose();
    model.dispose();
  });

  it('matches tfjs differentiating the whole model on a graph with a skip connection', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'a' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'b' }).apply(a) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, name: 'out' }).apply(tf.layers.flatten().apply(sum)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.tensor4d(numbers(72, 5), [1, 6, 6, 2]);
    const s = await saliency(model, x, { classIndex: 2 });
    const expected = tf.tidy(() => tf.max(tf.abs(tf.grad((v: tf.Tensor) => (model.apply(v) as tf.Tensor).slice([0, 2], [1, 1]).sum())(x)), -1));
    const e = expected.dataSync();
    s.values.forEach((v, i) => expect(v).toBeCloseTo(e[i], 5));
    expect(spatialLayers(model).map((l) => l.name)).toEqual(['a', 'b', 'sum']);
    tf.dispose([x, expected]);
    model.dispose();
  });
});

describe('Grad-CAM', () => {
  /** input -> 1x1 conv (2 filters, linear) -> flatten -> dense(2, softmax) whose weights depend on the channel only. */
  function camModel() {
    const input = tf.input({ shape: [6, 6, 1] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'conv' });
    const dense = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' });
    const model = tf.model({ inputs: input, outputs: dense.apply(tf.layers.flatten().apply(conv.apply(input))) as tf.SymbolicTensor });
    setWeights(conv, [
      { values: Float32Array.from([1, -1]), shape: [1, 1, 1, 2] },
      { values: Float32Array.from([0, 0]), shape: [2] },
    ]);
    // w[channel][class]: class 0 likes channel 0 (the image), class 1 likes channel 1 (its negative).
    const w = [
      [0.5, -0.2],
      [-0.1, 0.3],
    ];
    const W = new Float32Array(36 * 2 * 2);
    for (let p = 0; p < 36; p++) for (let k = 0; k < 2; k++) for (let c = 0; c < 2; c++) W[(p * 2 + k) * 2 + c] = w[k][c];
    setWeights(dense, [
      { values: W, shape: [72, 2] },
      { values: Float32Array.from([0, 0]), shape: [2] },
    ]);
    return { model, w };
  }

  it('equals ReLU(sum_k alpha_k A_k) computed by hand, lighting up the bright square for class 0', async () => {
    const { model, w } = camModel();
    const img = new Float32Array(36).fill(-0.2);
    for (const [y, x] of [[1, 1], [1, 2], [2, 1], [2, 2]]) img[y * 6 + x] = 1;
    const x = tf.tensor4d(img, [1, 6, 6, 1]);
    for (const cls of [0, 1]) {
      const cam = await gradCam(model, x, { classIndex: cls });
      expect([cam.layer, cam.height, cam.width, cam.classIndex]).toEqual(['conv', 6, 6, cls]);
      for (let p = 0; p < 36; p++) {
        // A_0 = img, A_1 = -img; alpha_k = w[k][cls] (the gradient is the same at every position).
        const expected = Math.max(0, w[0][cls] * img[p] + w[1][cls] * -img[p]);
        expect(cam.values[p]).toBeCloseTo(expected, 6);
      }
      expect(cam.upsampled.width).toBe(6);
    }
    const cam0 = await gradCam(model, x, { classIndex: 0 });
    const hottest = cam0.values.indexOf(Math.max(...cam0.values));
    expect([Math.floor(hottest / 6), hottest % 6]).toEqual([1, 1]);
    x.dispose();
    model.dispose();
  });

  it('is non-negative, has the layer’s shape and resizes to the input for any spatial layer', async () => {
    const input = tf.input({ shape: [16, 12, 3] });
    const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'c1' }).apply(input);
    const p1 = tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }).apply(c1);
    const c2 = tf.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', name: 'c2' }).apply(p1);
    const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(tf.layers.flatten().apply(c2)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.tensor4d(numbers(16 * 12 * 3, 3), [1, 16, 12, 3]);
    const last = await gradCam(model, x);
    expect([last.layer, last.height, last.width]).toEqual(['c2', 5, 3]);
    const pooled = await gradCam(model, x, { layer: 'p1', classIndex: 2 });
    expect([pooled.height, pooled.width]).toEqual([7, 5]);
    for (const cam of [last, pooled]) {
      expect(cam.values.every((v) => v >= 0)).toBe(true);
      expect([cam.upsampled.height, cam.upsampled.width, cam.upsampled.values.length]).toEqual([16, 12, 192]);
      expect(cam.upsampled.values.every((v) => v >= 0)).toBe(true);
    }
    await expect(gradCam(model, x, { layer: 'nope' })).rejects.toThrow(LayerChoiceError);
    await expect(gradCam(model, x, { layer: model.layers.at(-1)!.name })).rejects.toThrow(/height x width x channels/);
    await expect(gradCam(model, x, { classIndex: 3 })).rejects.toThrow(ClassChoiceError);
    x.dispose();
    model.dispose();
  });

  it('says so when the model has no conv layer', async () => {
    const { model } = linearModel(3, 3, 1, 2, 1);
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    await expect(gradCam(model, x)).rejects.toThrow(/has none/);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    const { model } = camModel();
    const x = tf.tensor4d(numbers(36, 4), [1, 6, 6, 1]);
    await gradCam(model, x);
    await saliency(model, x);
    await computeActivations(model, x);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      await gradCam(model, x);
      await saliency(model, x);
      await computeActivations(model, x);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
