// Evaluation (top-1/top-5, confusion cells) and on-demand dead ReLUs on synthetic splits with known answers.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import type { TrainSplit } from '../../src-main/engine/train/train-data';
import { cellExamples, confusionRows, evaluateModel } from '../../src-main/engine/inspect/evaluate';
import { deadRelus } from '../../src-main/engine/inspect/dead-relu';
import { InspectModelError } from '../../src-main/engine/inspect/errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A split of fixed examples [h, w, c] with labels. */
function split(xs: number[][], labels: number[], shape: [number, number, number]): TrainSplit {
  return {
    size: xs.length,
    batch(indices) {
      const idx = Array.from(indices);
      return {
        x: tf.tensor4d(idx.flatMap((i) => xs[i]), [idx.length, ...shape]),
        labels: tf.tensor1d(idx.map((i) => labels[i]), 'int32'),
      };
    },
  };
}

/** [1, 1, C] -> flatten -> dense with identity weights + softmax: predicts the largest input. */
function identityClassifier(classes: number) {
  const input = tf.input({ shape: [1, 1, classes] });
  const dense = tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: 'identity' });
  return tf.model({ inputs: input, outputs: dense.apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor });
}

describe('evaluateModel', () => {
  it('counts top-1 and top-5 errors and indexes the examples of every confusion cell', async () => {
    const classes = 8;
    // Example i scores classes by `order` (first = highest); label as given.
    const cases: { order: number[]; label: number }[] = [
      { order: [0, 1, 2, 3, 4, 5, 6, 7], label: 0 }, // right
      { order: [1, 0, 2, 3, 4, 5, 6, 7], label: 0 }, // predicted 1, in top 5
      { order: [1, 2, 3, 4, 5, 6, 7, 0], label: 0 }, // predicted 1, not in top 5
      { order: [2, 3, 4, 5, 6, 7, 0, 1], label: 2 }, // right
      { order: [1, 3, 4, 5, 6, 7, 0, 2], label: 3 }, // predicted 1, in top 5
      { order: [1, 7, 6, 5, 4, 3, 2, 0], label: 0 }, // predicted 1, not in top 5
      { order: [7, 6, 5, 4, 3, 2, 1, 0], label: 7 }, // right
    ];
    const xs = cases.map(({ order }) => {
      const v = new Array(classes).fill(0);
      order.forEach((c, rank) => (v[c] = classes - rank));
      return v;
    });
    const model = identityClassifier(classes);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const e = await evaluateModel(model, split(xs, cases.map((c) => c.label), [1, 1, classes]), { batchSize: 3, onProgress: (d) => seen.push(d) });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual([3, 6, 7]);
    expect(e.examples).toBe(7);
    expect(e.accuracy).toBeCloseTo(3 / 7, 12);
    expect(e.top1Error).toBeCloseTo(4 / 7, 12);
    expect(e.top5Error).toBeCloseTo(2 / 7, 12);
    const rows = confusionRows(e);
    expect(rows[0]).toEqual([1, 3, 0, 0, 0, 0, 0, 0]);
    expect(rows[3][1]).toBe(1);
    expect(rows.flat().reduce((a, b) => a + b, 0)).toBe(7);
    expect(Array.from(cellExamples(e, 0, 1))).toEqual([1, 2, 5]);
    expect(Array.from(cellExamples(e, 7, 7))).toEqual([6]);
    expect(Array.from(cellExamples(e, 5, 5))).toEqual([]);
    const limited = await evaluateModel(model, split(xs, cases.map((c) => c.label), [1, 1, classes]), { limit: 2 });
    expect(limited.examples).toBe(2);
    model.dispose();
  });

  it('leaves top-5 out for models with 5 classes or fewer', async () => {
    const model = identityClassifier(3);
    const e = await evaluateModel(model, split([[1, 0, 0], [0, 0, 1]], [0, 1], [1, 1, 3]));
    expect([e.top5Error, e.accuracy]).toEqual([null, 0.5]);
    model.dispose();
  });
});

describe('deadRelus', () => {
  /** input [2, 2, 1] -> 1x1 conv relu: f0 = x, f1 = -x, f2 = -1 (never fires) -> flatten -> dense(2, softmax). */
  function reluModel() {
    const input = tf.input({ shape: [2, 2, 1] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'relu', name: 'conv' });
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(tf.layers.flatten().apply(conv.apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const w = [tf.tensor4d([1, -1, 0], [1, 1, 1, 3]), tf.tensor1d([0, 0, -1])];
    conv.setWeights(w);
    tf.dispose(w);
    return model;
  }

  it('gives per channel the fraction of probe images where it is zero everywhere, over chunks', async () => {
    const images = [
      [1, 2, 3, 4], // f1 dead
      [-1, -2, -3, -4], // f0 dead
      [1, -1, 0, 0],
      [0, 0, 0, 0], // f0 and f1 dead
      [5, 5, 5, 5], // f1 dead
      [-1, 0, 0, 0], // f0 dead
      [2, 0, 0, 0], // f1 dead
    ];
    const model = reluModel();
    const before = tf.memory().numTensors;
    const report = await deadRelus(model, split(images, images.map(() => 0), [2, 2, 1]), { batchSize: 3, probeSize: 256 });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.probeSize).toBe(7);
    const conv = report.layers.find((l) => l.layer === 'conv')!;
    expect(conv.channels).toBe(3);
    expect(Array.from(conv.deadFraction)).toEqual([3 / 7, 4 / 7, 1].map(Math.fround));
    expect(conv.dead).toEqual([2]);
    // The softmax layer is not a ReLU layer.
    expect(report.layers.map((l) => l.layer)).toEqual(['conv']);

    const firstTwo = await deadRelus(model, split(images, images.map(() => 0), [2, 2, 1]), { probeSize: 2 });
    expect(Array.from(firstTwo.layers[0].deadFraction)).toEqual([0.5, 0.5, 1]);
    model.dispose();
  });

  it('refuses a model that is not a chain of layers with an inspection error', async () => {
    const input = tf.input({ shape: [2, 2, 1] });
    const a = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, input]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(sum)) as tf.SymbolicTensor });
    await expect(deadRelus(model, split([[1, 1, 1, 1]], [0], [2, 2, 1]))).rejects.toThrow(InspectModelError);
    model.dispose();
  });
});
