// Principal components of many vectors by randomized subspace iteration (Halko, Martinsson and Tropp 2011):
// q seeded random directions multiplied by the centred data's X^T X and re-orthonormalised a few times,
// then the exact eigen-decomposition (Jacobi) of the small q x q problem. The products run on tfjs, so
// 60,000 x 84 and 10,000 x 4096 both take a fraction of a second.
import { tf } from '../tf';
import { createRandom } from '../train/rng';

export interface Pca {
  /** Number of components. */
  components: number;
  dim: number;
  mean: Float32Array;
  /** components x dim, row-major, unit length; each one's largest-magnitude entry is positive. */
  axes: Float32Array;
  /** Variance along each axis, descending. */
  variance: number[];
  /** Share of the total variance along each axis. */
  explained: number[];
  /** count x components: the projected vectors. */
  coords: Float32Array;
}

export interface PcaOptions {
  components?: number;
  /** Extra directions carried along for accuracy (default 8). */
  oversample?: number;
  iterations?: number;
  seed?: number;
}

export function pca(vectors: Float32Array, dim: number, options: PcaOptions = {}): Pca {
  const n = vectors.length / dim;
  const k = options.components ?? 2;
  const q = Math.min(dim, k + (options.oversample ?? 8));
  const iterations = options.iterations ?? 12;
  const random = createRandom(options.seed ?? 1);
  const start = new Float32Array(dim * q);
  for (let i = 0; i < start.length; i++) start[i] = random.nextInt(0x10000) / 0x10000 - 0.5;
  const { mean, total, basis, small } = tf.tidy(() => {
    const x = tf.tensor2d(vectors, [n, dim]);
    const mu = tf.mean(x, 0);
    const xc = tf.sub(x, mu);
    let v: tf.Tensor2D = tf.tensor2d(orthonormal(start, dim, q), [dim, q]);
    for (let it = 0; it < iterations; it++) {
      const y = tf.matMul(xc, tf.matMul(xc, v), true, false);
      v = tf.tensor2d(orthonormal(y.dataSync() as Float32Array, dim, q), [dim, q]);
    }
    const b = tf.matMul(xc, v);
    return {
      mean: mu.dataSync() as Float32Array,
      total: tf.sum(tf.square(xc)).dataSync()[0] / Math.max(1, n - 1),
      basis: v.dataSync() as Float32Array,
      small: tf.div(tf.matMul(b, b, true, false), Math.max(1, n - 1)).dataSync() as Float32Array,
    };
  });
  const { values, vectors: eig } = jacobiEigen(Float64Array.from(small), q);
  const order = Array.from({ length: q }, (_, i) => i).sort((a, b) => values[b] - values[a]).slice(0, k);
  const axes = new Float32Array(k * dim);
  order.forEach((e, c) => {
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += basis[d * q + j] * eig[j * q + e];
      axes[c * dim + d] = s;
    }
    let big = 0;
    for (let d = 0; d < dim; d++) if (Math.abs(axes[c * dim + d]) > Math.abs(axes[c * dim + big])) big = d;
    if (axes[c * dim + big] < 0) for (let d = 0; d < dim; d++) axes[c * dim + d] *= -1;
  });
  const variance = order.map((e) => values[e]);
  return { components: k, dim, mean, axes, variance, explained: variance.map((v) => (total > 0 ? v / total : 0)), coords: project(vectors, dim, mean, axes, k) };
}

/** Vectors (count x dim) projected onto the axes after subtracting the mean. */
export function project(vectors: Float32Array, dim: number, mean: Float32Array, axes: Float32Array, k: number): Float32Array {
  const n = vectors.length / dim;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (vectors[i * dim + d] - mean[d]) * axes[c * dim + d];
      out[i * k + c] = s;
    }
  }
  return out;
}

/** Modified Gram-Schmidt on the q columns of a dim x q row-major matrix (a column that vanishes is replaced by unit vectors in turn). */
function orthonormal(m: Float32Array, dim: number, q: number): Float32Array {
  const a = Float64Array.from(m);
  let replacement = 0;
  for (let j = 0; j < q; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += a[d * q + j] * a[d * q + p];
      for (let d = 0; d < dim; d++) a[d * q + j] -= dot * a[d * q + p];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += a[d * q + j] ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-12) {
      const e = replacement++ % dim;
      for (let d = 0; d < dim; d++) a[d * q + j] = d === e ? 1 : 0;
      j--; // orthogonalise the replacement
      continue;
    }
    for (let d = 0; d < dim; d++) a[d * q + j] /= norm;
  }
  return Float32Array.from(a);
}

/** Eigenvalues and eigenvectors (columns of a q x q row-major matrix) of a symmetric matrix, by cyclic Jacobi rotations. */
export function jacobiEigen(s: Float64Array, q: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(s);
  const v = new Float64Array(q * q);
  for (let i = 0; i < q; i++) v[i * q + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < q; i++) for (let j = i + 1; j < q; j++) off += a[i * q + j] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < q; p++) {
      for (let r = p + 1; r < q; r++) {
        const apr = a[p * q + r];
        if (Math.abs(apr) < 1e-300) continue;
        const theta = (a[r * q + r] - a[p * q + p]) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < q; k++) {
          const akp = a[k * q + p];
          const akr = a[k * q + r];
          a[k * q + p] = c * akp - sn * akr;
          a[k * q + r] = sn * akp + c * akr;
        }
        for (let k = 0; k < q; k++) {
          const apk = a[p * q + k];
          const ark = a[r * q + k];
          a[p * q + k] = c * apk - sn * ark;
          a[r * q + k] = sn * apk + c * ark;
        }
        for (let k = 0; k < q; k++) {
          const vkp = v[k * q + p];
          const vkr = v[k * q + r];
          v[k * q + p] = c * vkp - sn * vkr;
          v[k * q + r] = sn * vkp + c * vkr;
        }
      }
    }
  }
  return { values: Array.from({ length: q }, (_, i) => a[i * q + i]), vectors: v };
}
