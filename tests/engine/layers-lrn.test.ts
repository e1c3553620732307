// LocalResponseNormalization against hand computations of the paper's and Caffe's formulas.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { LocalResponseNormalization, PAPER_LRN, lrnFromCaffe, lrnFromPaper } from '../../src-main/engine/models/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// Channel activations at one pixel, large enough that the normalisation visibly changes them.
const a = [40, -65, 90, 10, 0, 120, -30, 75, 55];
const N = a.length;

/** The paper, section 3.3: b_i = a_i / (k + alpha * sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} a_j^2)^beta. */
function paperLrn(k: number, n: number, alpha: number, beta: number): number[] {
  const half = Math.floor(n / 2);
  return a.map((ai, i) => {
    let sum = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(N - 1, i + half); j++) sum += a[j] ** 2;
    return ai / (k + alpha * sum) ** beta;
  });
}

/** Caffe's LRN layer (ACROSS_CHANNELS): b_i = a_i / (k + (alpha / n) * sum over the local_size window)^beta. */
function caffeLrn(localSize: number, alpha: number, beta: number, k: number): number[] {
  const prePad = (localSize - 1) / 2;
  return a.map((ai, i) => {
    let sum = 0;
    for (let j = i - prePad; j <= i + prePad; j++) if (j >= 0 && j < N) sum += a[j] ** 2;
    return ai / (k + (alpha / localSize) * sum) ** beta;
  });
}

function applyLayer(layer: LocalResponseNormalization): number[] {
  return tf.tidy(() => Array.from((layer.apply(tf.tensor4d(a, [1, 1, 1, N])) as tf.Tensor).dataSync()));
}

function expectClose(got: number[], expected: number[]) {
  expect(got).toHaveLength(expected.length);
  got.forEach((g, i) => expect(Math.abs(g - expected[i]) / Math.abs(expected[i] || 1)).toBeLessThan(1e-5));
}

describe('LRN conventions', () => {
  it("the paper's k=2, n=5, alpha=1e-4, beta=0.75 is depthRadius 2, bias 2, alpha 1e-4, beta 0.75 (alpha not divided by n)", () => {
    expect(lrnFromPaper({ k: 2, n: 5, alpha: 1e-4, beta: 0.75 })).toEqual(PAPER_LRN);
    expect(PAPER_LRN).toEqual({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
    const before = tf.memory().numTensors;
    expectClose(applyLayer(new LocalResponseNormalization(PAPER_LRN)), paperLrn(2, 5, 1e-4, 0.75));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the layer defaults to the paper values', () => {
    expectClose(applyLayer(new LocalResponseNormalization()), paperLrn(2, 5, 1e-4, 0.75));
  });

  it("Caffe's params map to alpha_caffe / n, depthRadius (n-1)/2, bias k (BVLC AlexNet: k = 1)", () => {
    const bvlc = lrnFromCaffe({ localSize: 5, alpha: 1e-4, beta: 0.75 });
    expect(bvlc).toEqual({ depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
    expectClose(applyLayer(new LocalResponseNormalization(bvlc)), caffeLrn(5, 1e-4, 0.75, 1));
    const wide = lrnFromCaffe({ localSize: 7, alpha: 3e-4, beta: 0.5, k: 2 });
    expect(wide.depthRadius).toBe(3);
    expectClose(applyLayer(new LocalResponseNormalization(wide)), caffeLrn(7, 3e-4, 0.5, 2));
  });

  it("using a Caffe alpha as is (the paper's convention) gives visibly different outputs", () => {
    const asIs = applyLayer(new LocalResponseNormalization({ depthRadius: 2, bias: 1, alpha: 1e-4, beta: 0.75 }));
    const caffe = caffeLrn(5, 1e-4, 0.75, 1);
    const maxRel = Math.max(...asIs.map((v, i) => Math.abs(v - caffe[i]) / Math.abs(caffe[i] || 1)));
    expect(maxRel).toBeGreaterThan(0.1);
  });

  it('rejects an even Caffe local_size', () => {
    expect(() => lrnFromCaffe({ localSize: 4, alpha: 1e-4, beta: 0.75 })).toThrow(/odd/);
  });
});

describe('LocalResponseNormalization layer', () => {
  it('normalises every pixel independently across channels', () => {
    const layer = new LocalResponseNormalization(PAPER_LRN);
    const pixels = tf.tensor4d([...a, ...a.map((v) => v / 10)], [1, 1, 2, N]);
    const out = tf.tidy(() => (layer.apply(pixels) as tf.Tensor).arraySync() as number[][][][]);
    expectClose(out[0][0][0], paperLrn(2, 5, 1e-4, 0.75));
    const small = a.map((v) => v / 10);
    const expectedSmall = small.map((ai, i) => {
      let sum = 0;
      for (let j = Math.max(0, i - 2); j <= Math.min(N - 1, i + 2); j++) sum += small[j] ** 2;
      return ai / (2 + 1e-4 * sum) ** 0.75;
    });
    expectClose(out[0][0][1], expectedSmall);
    pixels.dispose();
  });

  it('passes gradients to its input', () => {
    const layer = new LocalResponseNormalization(PAPER_LRN);
    const x = tf.tensor4d(a, [1, 1, 1, N]);
    const before = tf.memory().numTensors;
    const dx = tf.grad((xi: tf.Tensor) => tf.sum(layer.apply(xi) as tf.Tensor))(x);
    const g = Array.from(dx.dataSync());
    // Finite differences of sum(b) with respect to a_3 (float64, by hand).
    const sumB = (values: number[]) =>
      values.reduce((s, ai, i) => {
        let sum = 0;
        for (let j = Math.max(0, i - 2); j <= Math.min(N - 1, i + 2); j++) sum += values[j] ** 2;
        return s + ai / (2 + 1e-4 * sum) ** 0.75;
      }, 0);
    const h = 1e-3;
    const plus = [...a];
    plus[3] += h;
    const minus = [...a];
    minus[3] -= h;
    expect(g[3]).toBeCloseTo((sumB(plus) - sumB(minus)) / (2 * h), 4);
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('is registered with tfjs and round-trips its config', () => {
    const layer = new LocalResponseNormalization({ name: 'lrn1', depthRadius: 3, bias: 1, alpha: 2e-5, beta: 0.5 });
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    expect(config).toMatchObject({ name: 'lrn1', depthRadius: 3, bias: 1, alpha: 2e-5, beta: 0.5 });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap.LocalResponseNormalization;
    const copy = fromConfig(cls, config) as LocalResponseNormalization;
    expect(copy).toBeInstanceOf(LocalResponseNormalization);
    expect(copy.getConfig()).toEqual(layer.getConfig());
    expect(copy.computeOutputShape([null, 13, 13, 256])).toEqual([null, 13, 13, 256]);
  });
});
