import { describe, expect, it } from 'vitest';
import {
  Augmenter,
  centerCropPlace,
  colourPca,
  cropInto,
  gaussian,
  pcaShift,
  randomCropPlace,
  RgbCovariance,
  symmetricEigen3,
  tenCropPlaces,
  type AugmentOptions,
  type RawImage,
} from '../../src-main/engine/data/augment';
import { createRandom } from '../../src-main/engine/train/rng';

/** width x height image whose pixel (x, y) channel k holds (y * width + x) * c + k, mod 256. */
function indexImage(width: number, height: number, channels: number): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = i % 256;
  return { data, width, height, channels };
}

function matVec(m: number[], v: number[]): number[] {
  return [0, 1, 2].map((i) => m[i * 3] * v[0] + m[i * 3 + 1] * v[1] + m[i * 3 + 2] * v[2]);
}

const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function expectEigenDecomposition(m: number[], tolerance: number): void {
  const { values, vectors } = symmetricEigen3(m);
  expect(values[0]).toBeGreaterThanOrEqual(values[1]);
  expect(values[1]).toBeGreaterThanOrEqual(values[2]);
  const scale = Math.max(...m.map(Math.abs), 1e-12);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) expect(Math.abs(dot(vectors[i], vectors[j]) - (i === j ? 1 : 0))).toBeLessThan(1e-12);
    const av = matVec(m, vectors[i]);
    for (let k = 0; k < 3; k++) expect(Math.abs(av[k] - values[i] * vectors[i][k])).toBeLessThan(tolerance * scale);
  }
  // A = sum_i lambda_i p_i p_i^T
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const rebuilt = values.reduce((s, l, i) => s + l * vectors[i][r] * vectors[i][c], 0);
      expect(Math.abs(rebuilt - m[r * 3 + c])).toBeLessThan(tolerance * scale);
    }
  }
}

describe('symmetricEigen3 (Jacobi)', () => {
  it('finds the known eigenvalues of a block matrix', () => {
    const { values, vectors } = symmetricEigen3([2, 1, 0, 1, 2, 0, 0, 0, 5]);
    expect(values.map((v) => Number(v.toFixed(12)))).toEqual([5, 3, 1]);
    expect(Math.abs(vectors[0][2])).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[1][0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[1][0] * vectors[1][1]).toBeGreaterThan(0);
  });

  it('decomposes random symmetric matrices, repeated eigenvalues and diagonal ones', () => {
    const rng = createRandom(7);
    const r = () => rng.nextInt(2001) / 1000 - 1;
    for (let t = 0; t < 200; t++) {
      const [a, b, c, d, e, f] = [r(), r(), r(), r(), r(), r()];
      expectEigenDecomposition([a, b, c, b, d, e, c, e, f], 1e-12);
    }
    expectEigenDecomposition([2, 0, 0, 0, 2, 0, 0, 0, 2], 1e-12);
    expectEigenDecomposition([1, 0, 0, 0, 3, 0, 0, 0, 2], 1e-12);
    expectEigenDecomposition([1e-6, 2e-7, 0, 2e-7, 3e-6, 1e-7, 0, 1e-7, 2e-6], 1e-10);
  });

  it('refuses a non-symmetric matrix', () => {
    expect(() => symmetricEigen3([1, 2, 0, 0, 1, 0, 0, 0, 1])).toThrow(/not symmetric/);
  });
});

describe('RGB covariance and colour PCA', () => {
  it('matches a two-pass covariance over several images', () => {
    const rng = createRandom(3);
    const images: RawImage[] = [0, 1, 2].map(() => {
      const data = new Uint8Array(10 * 7 * 3);
      for (let i = 0; i < data.length; i += 3) {
        const base = rng.nextInt(200);
        data[i] = base + rng.nextInt(40);
        data[i + 1] = base;
        data[i + 2] = 255 - base - rng.nextInt(20);
      }
      return { data, width: 10, height: 7, channels: 3 };
    });
    const cov = new RgbCovariance();
    images.forEach((img) => cov.add(img));
    const pixels = images.flatMap((img) => Array.from({ length: img.data.length / 3 }, (_, p) => [0, 1, 2].map((k) => img.data[p * 3 + k] / 255)));
    expect(cov.pixels).toBe(pixels.length);
    const mean = [0, 1, 2].map((k) => pixels.reduce((s, p) => s + p[k], 0) / pixels.length);
    cov.mean().forEach((m, k) => expect(m).toBeCloseTo(mean[k], 12));
    const got = cov.covariance();
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const direct = pixels.reduce((s, p) => s + (p[a] - mean[a]) * (p[b] - mean[b]), 0) / pixels.length;
        expect(got[a * 3 + b]).toBeCloseTo(direct, 12);
      }
    }
    // Red and green move together, blue against them: the first component is about (1, 1, -1)/sqrt(3).
    const pca = colourPca(cov);
    const p0 = pca.eigenvectors[0];
    expect(Math.abs(dot(p0, [1, 1, -1].map((v) => v / Math.sqrt(3))))).toBeGreaterThan(0.97);
  });

  it('pcaShift draws sum alpha_i lambda_i p_i with alpha_i ~ N(0, std), in 0-255 units', () => {
    const pca = {
      eigenvalues: [0.04, 0.01, 0.002] as [number, number, number],
      eigenvectors: [
        [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)],
        [1 / Math.sqrt(2), 0, -1 / Math.sqrt(2)],
        [1 / Math.sqrt(6), -2 / Math.sqrt(6), 1 / Math.sqrt(6)],
      ] as [number, number, number][],
    };
    const rng = createRandom(11);
    const n = 20000;
    const sums = [0, 0, 0];
    const squares = [0, 0, 0];
    for (let t = 0; t < n; t++) {
      const shift = pcaShift(pca, rng, 0.1);
      pca.eigenvectors.forEach((p, i) => {
        const along = dot(shift, p);
        sums[i] += along;
        squares[i] += along * along;
      });
    }
    pca.eigenvalues.forEach((lambda, i) => {
      const expectedSd = 0.1 * lambda * 255;
      expect(Math.abs(sums[i] / n)).toBeLessThan((4 * expectedSd) / Math.sqrt(n));
      expect(Math.sqrt(squares[i] / n) / expectedSd).toBeGreaterThan(0.97);
      expect(Math.sqrt(squares[i] / n) / expectedSd).toBeLessThan(1.03);
    });
  });

  it('gaussian has mean 0 and standard deviation 1', () => {
    const rng = createRandom(5);
    let s = 0;
    let s2 = 0;
    const n = 40000;
    for (let i = 0; i < n; i++) {
      const g = gaussian(rng);
      s += g;
      s2 += g * g;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.02);
  });
});

describe('crops and mirrors', () => {
  it('cropInto copies the patch, mirrored left-right on request', () => {
    const img = indexImage(5, 4, 3);
    const out = new Float32Array(2 * 2 * 3);
    cropInto(img, 2, { top: 1, left: 2, mirror: false }, out);
    const at = (x: number, y: number) => [0, 1, 2].map((k) => (y * 5 + x) * 3 + k);
    expect(Array.from(out)).toEqual([...at(2, 1), ...at(3, 1), ...at(2, 2), ...at(3, 2)]);
    cropInto(img, 2, { top: 1, left: 2, mirror: true }, out);
    expect(Array.from(out)).toEqual([...at(3, 1), ...at(2, 1), ...at(3, 2), ...at(2, 2)]);
    cropInto(img, 2, { top: 1, left: 2, mirror: true }, out, 0, [0.5, -1, 2]);
    expect(Array.from(out)).toEqual([...at(3, 1), ...at(2, 1), ...at(3, 2), ...at(2, 2)].map((v, i) => v + [0.5, -1, 2][i % 3]));
    expect(() => cropInto(img, 2, { top: 3, left: 0, mirror: false }, out)).toThrow(/outside/);
    expect(() => cropInto(img, 5, { top: 0, left: 0, mirror: false }, new Float32Array(75))).toThrow(/does not fit/);
  });

  it('random crops cover every offset and mirror about half the time; the centre crop is centred', () => {
    const img = indexImage(10, 8, 1);
    const rng = createRandom(1);
    const tops = new Set<number>();
    const lefts = new Set<number>();
    let mirrored = 0;
    for (let i = 0; i < 2000; i++) {
      const p = randomCropPlace(img, 6, true, rng);
      tops.add(p.top);
      lefts.add(p.left);
      if (p.mirror) mirrored++;
    }
    expect([...tops].sort()).toEqual([0, 1, 2]);
    expect([...lefts].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(mirrored).toBeGreaterThan(900);
    expect(mirrored).toBeLessThan(1100);
    expect(randomCropPlace(img, 6, false, rng).mirror).toBe(false);
    expect(centerCropPlace(img, 6)).toEqual({ top: 1, left: 2, mirror: false });
    expect(centerCropPlace({ ...img, width: 256, height: 256 }, 224)).toEqual({ top: 16, left: 16, mirror: false });
  });

  it('tenCropPlaces: four corners and the centre, then the same mirrored', () => {
    const places = tenCropPlaces({ width: 256, height: 256, channels: 3 }, 224);
    expect(places).toEqual([
      ...[false, true].flatMap((mirror) => [
        { top: 0, left: 0, mirror },
        { top: 0, left: 32, mirror },
        { top: 32, left: 0, mirror },
        { top: 32, left: 32, mirror },
        { top: 16, left: 16, mirror },
      ]),
    ]);
  });
});

describe('Augmenter', () => {
  const pca = {
    eigenvalues: [0.05, 0.01, 0.001] as [number, number, number],
    eigenvectors: [
      [0.58, 0.58, 0.57],
      [0.7, 0, -0.71],
      [0.41, -0.82, 0.41],
    ] as [number, number, number][],
  };
  const train: AugmentOptions = { size: 4, random: true, mirror: true, pca, pcaStd: 0.1 };

  it('is reproducible from a seed and from saved state', () => {
    const img = indexImage(7, 6, 3);
    const run = (aug: Augmenter) => {
      const out = new Float32Array(4 * 4 * 3);
      aug.apply(img, out);
      return Array.from(out);
    };
    const a = new Augmenter(train, 42);
    const b = new Augmenter(train, 42);
    expect(run(a)).toEqual(run(b));
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const next = [run(a), run(a), run(a)];
    const restored = new Augmenter(train, saved);
    expect([run(restored), run(restored), run(restored)]).toEqual(next);
    b.setState(saved);
    expect(run(b)).toEqual(next[0]);
    expect(run(new Augmenter(train, 43))).not.toEqual(run(new Augmenter(train, 42)));
  });

  it('adds one colour shift per image to a crop of the image', () => {
    const img = indexImage(7, 6, 3);
    const out = new Float32Array(2 * 4 * 4 * 3);
    const aug = new Augmenter(train, 9);
    aug.apply(img, out, 0);
    aug.apply(img, out, 48);
    const shifts: number[][] = [];
    for (const base of [0, 48]) {
      const patch = Array.from(out.subarray(base, base + 48));
      const place = findPlace(img, patch);
      expect(place, 'the patch is a shifted crop').not.toBeNull();
      shifts.push(place!.shift);
    }
    expect(shifts[0]).not.toEqual(shifts[1]);
  });

  it('the test-time centre crop without PCA is exactly the centre patch', () => {
    const img = indexImage(8, 8, 3);
    const aug = new Augmenter({ size: 4, random: false, mirror: false, pca: null, pcaStd: 0.1 }, 1);
    const examples = { count: 2, images: new Uint8Array([...img.data, ...img.data]), labels: new Int32Array(2) };
    const out = aug.applyBatch(examples, [8, 8, 3]);
    expect(out.length).toBe(2 * 4 * 4 * 3);
    const expected = new Float32Array(48);
    cropInto(img, 4, { top: 2, left: 2, mirror: false }, expected);
    expect(Array.from(out.subarray(0, 48))).toEqual(Array.from(expected));
    expect(Array.from(out.subarray(48))).toEqual(Array.from(expected));
    // A reused buffer gets the same patches; one too small is refused.
    const buffer = new Float32Array(200).fill(-1);
    const reused = aug.applyBatch(examples, [8, 8, 3], buffer);
    expect(reused.buffer).toBe(buffer.buffer);
    expect(Array.from(reused)).toEqual(Array.from(out));
    expect(buffer[96]).toBe(-1);
    expect(() => aug.applyBatch(examples, [8, 8, 3], new Float32Array(95))).toThrow(/needs 96/);
  });

  it('refuses PCA jitter on grey images', () => {
    const aug = new Augmenter({ ...train, size: 2 }, 1);
    expect(() => aug.apply(indexImage(3, 3, 1), new Float32Array(4))).toThrow(/needs RGB/);
  });
});

/** The crop place and colour shift that turn `img` into `patch` (size 4, RGB), or null. */
function findPlace(img: RawImage, patch: number[]): { shift: number[] } | null {
  for (let top = 0; top + 4 <= img.height; top++) {
    for (let left = 0; left + 4 <= img.width; left++) {
      for (const mirror of [false, true]) {
        const plain = new Float32Array(48);
        cropInto(img, 4, { top, left, mirror }, plain);
        const shift = [0, 1, 2].map((k) => patch[k] - plain[k]);
        if (patch.every((v, i) => Math.abs(v - plain[i] - shift[i % 3]) < 1e-3)) return { shift };
      }
    }
  }
  return null;
}
