// UMAP layouts: seeded, reproducible, and they keep apart clusters that PCA's two axes lay over each other.
import { describe, it, expect } from 'vitest';
import { pca } from '../../src-main/engine/insight/pca';
import { umapMap } from '../../src-main/engine/insight/map-layout';

/** `classes` clusters in `dim` dimensions, each a one-hot direction plus noise (deterministic). */
function clusters(perClass: number, classes: number, dim: number): { vectors: Float32Array; labels: number[] } {
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const vectors = new Float32Array(perClass * classes * dim);
  const labels: number[] = [];
  for (let i = 0; i < perClass * classes; i++) {
    const c = i % classes;
    labels.push(c);
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = (j === c ? 4 : 0) + 3 * rnd();
  }
  return { vectors, labels };
}

/** Leave-one-out 1-nearest-neighbour accuracy of 2-D points: how well the map keeps classes apart. */
function separation(coords: Float32Array, labels: number[]): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < labels.length; j++) {
      if (j === i) continue;
      const d = (coords[2 * i] - coords[2 * j]) ** 2 + (coords[2 * i + 1] - coords[2 * j + 1]) ** 2;
      if (d < bestD) [best, bestD] = [j, d];
    }
    if (labels[best] === labels[i]) right++;
  }
  return right / labels.length;
}

describe('UMAP maps', () => {
  const dim = 20;
  const { vectors, labels } = clusters(40, 10, dim);

  it('keeps ten clusters apart where PCA cannot, and repeats itself for a seed', { timeout: 60_000 }, async () => {
    const a = await umapMap(vectors, dim, { seed: 5 });
    const b = await umapMap(vectors, dim, { seed: 5 });
    const other = await umapMap(vectors, dim, { seed: 6 });
    expect(Array.from(b.coords)).toEqual(Array.from(a.coords));
    expect(Array.from(other.coords)).not.toEqual(Array.from(a.coords));
    const umapScore = separation(a.coords, labels);
    const pcaScore = separation(pca(vectors, dim).coords, labels);
    console.log(`1-NN separation of the clusters: UMAP ${umapScore}, PCA ${pcaScore}`);
    expect(umapScore).toBeGreaterThan(0.97);
    expect(pcaScore).toBeLessThan(umapScore - 0.2);
  });

  it('places a new vector beside its cluster, and reports progress', { timeout: 60_000 }, async () => {
    const steps: number[] = [];
    const map = await umapMap(vectors, dim, { seed: 1, onProgress: (done, total) => steps.push(done / total) });
    expect(steps.at(-1)).toBe(1);
    const query = Float32Array.from(vectors.subarray(3 * dim, 4 * dim), (v) => v + 0.01); // a point of class 3, moved a little
    const [x, y] = map.place(query);
    let nearest = 0;
    for (let i = 1; i < labels.length; i++) {
      if ((map.coords[2 * i] - x) ** 2 + (map.coords[2 * i + 1] - y) ** 2 < (map.coords[2 * nearest] - x) ** 2 + (map.coords[2 * nearest + 1] - y) ** 2) nearest = i;
    }
    expect(labels[nearest]).toBe(3);
  });

  it('refuses fewer than four vectors, and stops when cancelled', async () => {
    await expect(umapMap(vectors.subarray(0, 3 * dim), dim)).rejects.toThrow(/at least 4 vectors, got 3/);
    const controller = new AbortController();
    controller.abort();
    await expect(umapMap(vectors, dim, { signal: controller.signal })).rejects.toThrow();
  });
});
