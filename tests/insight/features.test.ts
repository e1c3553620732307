import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { resolveModel, type ResolvedModel } from '../../src-main/engine/inspect';
import { buildModel, getModelSpec } from '../../src-main/engine/models';
import { openModelSplit } from '../../src-main/engine/handlers/insight-data';
import { defaultFeatureLayer, featureVectors, nearest } from '../../src-main/engine/insight/features';
import { jacobiEigen, pca } from '../../src-main/engine/insight/pca';
import { createRandom } from '../../src-main/engine/train/rng';
import { resourcesDir } from '../../src-main/engine/paths';

let m: ResolvedModel;
beforeAll(async () => {
  m = await resolveModel(path.join(resourcesDir(), 'pretrained', 'lenet5-mnist'));
});
afterAll(() => m.model.dispose());

const uniform = (seed: number) => {
  const r = createRandom(seed);
  return () => r.nextInt(0x1000000) / 0x1000000;
};

describe('feature vectors and nearest neighbours', () => {
  it('picks the last hidden layer: LeNet-5 fc2, AlexNet fc7', () => {
    expect(defaultFeatureLayer(m.model)).toBe('fc2');
    const alex = buildModel(getModelSpec('alexnet', { width: 0.0625, dropout: 0.5 }), { seed: 0 });
    try {
      expect(defaultFeatureLayer(alex)).toBe('fc7');
    } finally {
      alex.dispose();
    }
  });

  it('reads fc2 of a split with the model’s predictions, leaking no tensors', async () => {
    const data = await openModelSplit(m, undefined, 'test');
    const before = tf.memory().numTensors;
    const set = await featureVectors(m.model, 'fc2', data.served, { limit: 50, batchSize: 20 });
    expect(tf.memory().numTensors).toBe(before);
    expect([set.dim, set.count]).toEqual([84, 50]);
    const batch = await data.served.batch([7]);
    const fc2 = tf.tidy(() => tf.model({ inputs: m.model.inputs, outputs: m.model.getLayer('fc2').output as tf.SymbolicTensor }).predict(batch.x) as tf.Tensor);
    const expected = await fc2.data();
    tf.dispose([fc2, batch.x, batch.labels]);
    for (let j = 0; j < 84; j++) expect(set.vectors[7 * 84 + j]).toBeCloseTo(expected[j], 5);
    expect(set.predicted.filter((p, i) => p === set.labels[i]).length).toBeGreaterThan(45);
  });

  it('stops between batches when cancelled, leaking no tensors', async () => {
    const data = await openModelSplit(m, undefined, 'test');
    const stop = new AbortController();
    const seen: number[] = [];
    const before = tf.memory().numTensors;
    const reading = featureVectors(m.model, 'fc2', data.served, { limit: 100, batchSize: 20, signal: stop.signal, onProgress: (done) => (seen.push(done), done === 40 && stop.abort(new Error('closed'))) });
    await expect(reading).rejects.toThrow('closed');
    expect(seen).toEqual([20, 40]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nearest equals a brute-force sort of all distances', () => {
    const random = uniform(3);
    const dim = 7;
    const vectors = Float32Array.from({ length: 500 * dim }, () => random());
    const query = Array.from({ length: dim }, () => random());
    const all = Array.from({ length: 500 }, (_, i) => ({
      index: i,
      distance: Math.hypot(...query.map((q, j) => vectors[i * dim + j] - q)),
    })).sort((a, b) => a.distance - b.distance || a.index - b.index);
    const got = nearest(vectors, dim, query, 6);
    expect(got.map((g) => g.index)).toEqual(all.slice(0, 6).map((a) => a.index));
    got.forEach((g, i) => expect(g.distance).toBeCloseTo(all[i].distance, 5));
  });
});

describe('PCA', () => {
  it('Jacobi finds A v = lambda v', () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 1]);
    const { values, vectors } = jacobiEigen(a, 3);
    for (let e = 0; e < 3; e++) {
      for (let i = 0; i < 3; i++) {
        const av = a[i * 3] * vectors[e] + a[i * 3 + 1] * vectors[3 + e] + a[i * 3 + 2] * vectors[6 + e];
        expect(av).toBeCloseTo(values[e] * vectors[i * 3 + e], 8);
      }
    }
  });

  it('recovers known principal axes and their variances', () => {
    const random = uniform(5);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const dim = 12;
    const u1 = Array.from({ length: dim }, (_, d) => (d < 4 ? 0.5 : 0));
    const u2 = Array.from({ length: dim }, (_, d) => (d >= 4 && d < 8 ? 0.5 : 0));
    const n = 4000;
    const vectors = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      const [a, b] = [5 * gauss(), 2 * gauss()];
      for (let d = 0; d < dim; d++) vectors[i * dim + d] = 3 + a * u1[d] + b * u2[d] + 0.05 * gauss();
    }
    const p = pca(vectors, dim);
    const dot = (c: number, u: number[]) => Math.abs(u.reduce((s, v, d) => s + v * p.axes[c * dim + d], 0));
    expect(dot(0, u1)).toBeGreaterThan(0.999);
    expect(dot(1, u2)).toBeGreaterThan(0.999);
    expect(p.variance[0]).toBeGreaterThan(22);
    expect(p.variance[0]).toBeLessThan(28);
    expect(p.variance[1]).toBeGreaterThan(3.5);
    expect(p.variance[1]).toBeLessThan(4.5);
    expect(p.explained[0] + p.explained[1]).toBeGreaterThan(0.99);
    // Coordinates are the centred vectors on the axes: their mean is 0 and their variance the axis variance.
    const xs = Array.from({ length: n }, (_, i) => p.coords[i * 2]);
    expect(Math.abs(xs.reduce((s, v) => s + v, 0) / n)).toBeLessThan(1e-3);
    expect(xs.reduce((s, v) => s + v * v, 0) / (n - 1)).toBeCloseTo(p.variance[0], 2);
  });
});
