// Every attribution method on a network that, by construction, sees only the bottom-right quadrant of its
// input: each map's mass must lie there. Plus Integrated Gradients' completeness and the deletion /
// insertion curves against an oracle map.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { attribute } from '../../src-main/engine/inspect/attribution/methods';
import { smoothGrad } from '../../src-main/engine/inspect/attribution/smooth-grad';
import { integratedGradients } from '../../src-main/engine/inspect/attribution/integrated-gradients';
import { faithfulnessCurves, gaussianBlur, rankPixels } from '../../src-main/engine/inspect/attribution/faithfulness';
import { ATTRIBUTION_METHODS } from '../../src-main/engine/inspect/attribution/target';

const SIZE = 16;

/** Zeroes everything outside the bottom-right quadrant (a fixed mask, no weights). */
class QuadrantMask extends tf.layers.Layer {
  static className = 'QuadrantMaskForTests';
  computeOutputShape(shape: tf.Shape | tf.Shape[]) {
    return shape;
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => tf.mul(x, quadrantMask(x.shape[1], x.shape[2])));
  }
}

function quadrantMask(h: number, w: number): tf.Tensor4D {
  const m = new Float32Array(h * w);
  for (let y = h / 2; y < h; y++) for (let x = w / 2; x < w; x++) m[y * w + x] = 1;
  return tf.tensor4d(m, [1, h, w, 1]);
}

/** Pixel p lies in the quadrant, widened by `margin` pixels towards the rest of the image. */
const inQuadrant = (p: number, margin = 0) => Math.floor(p / SIZE) >= SIZE / 2 - margin && p % SIZE >= SIZE / 2 - margin;

/** Share of the map's positive mass inside the (widened) quadrant. */
function massInQuadrant(values: Float32Array, margin: number): number {
  let inside = 0;
  let all = 0;
  values.forEach((v, p) => {
    const m = Math.max(0, v);
    all += m;
    if (inQuadrant(p, margin)) inside += m;
  });
  return inside / all;
}

let model: tf.LayersModel;
let x: tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  const masked = new QuadrantMask({ name: 'mask' }).apply(input);
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), name: 'conv' }).apply(masked);
  const pool = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(conv);
  const out = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), name: 'out' }).apply(tf.layers.flatten().apply(pool)) as tf.SymbolicTensor;
  model = tf.model({ inputs: input, outputs: out });
  x = tf.randomUniform([1, SIZE, SIZE, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
});

afterAll(() => {
  x.dispose();
  model.dispose();
});

describe('attribution methods', () => {
  it.each(ATTRIBUTION_METHODS)('%s puts the map’s mass in the only quadrant the network sees', async (method) => {
    const map = await attribute(method, model, x, { batchSize: 10 });
    expect([map.method, map.height, map.width, map.values.length]).toEqual([method, SIZE, SIZE, SIZE * SIZE]);
    expect(map.values.every(Number.isFinite)).toBe(true);
    expect(map.values.some((v) => v > 0)).toBe(true);
    // Gradients outside the quadrant are exactly zero; a CAM is the 3x3 conv's output, which reaches one
    // pixel beyond the quadrant (its activations there are of quadrant pixels).
    const cam = method.includes('cam');
    expect(massInQuadrant(map.values, cam ? 1 : 0)).toBeGreaterThan(0.9999);
    if (cam) expect(massInQuadrant(map.values, 0)).toBeGreaterThan(0.6);
    if (method.includes('cam')) expect(map.layer).toBe('conv');
  });

  it('explains the class asked for and takes any spatial layer', async () => {
    const map = await attribute('gradcam++', model, x, { classIndex: 2, layer: 'pool' });
    expect([map.classIndex, map.layer, map.coarse?.height, map.coarse?.width]).toEqual([2, 'pool', SIZE / 2, SIZE / 2]);
    await expect(attribute('scorecam', model, x, { layer: 'nope' })).rejects.toThrow(/no layer 'nope'/);
  });

  it('Integrated Gradients is complete: the attributions sum to the score difference from the baseline', async () => {
    const r = await integratedGradients(model, x, { steps: 50 });
    const { total, scoreDifference } = r.completeness;
    expect(Math.abs(scoreDifference)).toBeGreaterThan(0.01);
    expect(Math.abs(total - scoreDifference)).toBeLessThan(0.01 * Math.abs(scoreDifference));
    const sum = r.values.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(total, 4);
  });

  it('SmoothGrad repeats with the same seed and changes with another', async () => {
    const a = await smoothGrad(model, x);
    const b = await smoothGrad(model, x);
    const c = await smoothGrad(model, x, { seed: 1 });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from(c.values)).not.toEqual(Array.from(a.values));
  });

  it('leaks no tensors', async () => {
    for (const m of ATTRIBUTION_METHODS) await attribute(m, model, x, { batchSize: 10 });
    const before = tf.memory().numTensors;
    for (const m of ATTRIBUTION_METHODS) await attribute(m, model, x, { batchSize: 10 });
    await faithfulnessCurves(model, x, { width: SIZE, height: SIZE, values: new Float32Array(SIZE * SIZE) }, 0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('deletion and insertion curves', () => {
  const oracle = { width: SIZE, height: SIZE, values: Float32Array.from({ length: SIZE * SIZE }, (_, p) => (inQuadrant(p) ? 1 : 0)) };
  const reversed = { ...oracle, values: oracle.values.map((v) => 1 - v) };

  it('rank the oracle map as more faithful than its reverse', async () => {
    const top = (await attribute('saliency', model, x)).classIndex;
    const good = await faithfulnessCurves(model, x, oracle, top, { stepSize: 16 });
    const bad = await faithfulnessCurves(model, x, reversed, top, { stepSize: 16 });
    expect(good.stepSize).toBe(16);
    expect(good.deletion.xs).toHaveLength(SIZE * SIZE / 16 + 1);
    expect([good.deletion.xs[0], good.deletion.xs.at(-1)]).toEqual([0, 1]);
    // Both curves start at the input's own probability; deletion ends at the empty input's.
    expect(good.deletion.ys[0]).toBeCloseTo(bad.deletion.ys[0], 6);
    expect(good.deletion.ys.at(-1)).toBeCloseTo(0.25, 5); // all zeros, no biases: uniform over 4 classes
    expect(good.insertion.ys.at(-1)).toBeCloseTo(good.deletion.ys[0], 5);
    expect(good.deletion.auc).toBeLessThan(bad.deletion.auc);
    expect(good.insertion.auc).toBeGreaterThan(bad.insertion.auc);
    // Removing pixels the network never sees changes nothing.
    expect(bad.deletion.ys.slice(0, 12).every((v) => Math.abs(v - bad.deletion.ys[0]) < 1e-6)).toBe(true);
  });

  it('orders pixels by decreasing value, ties by index', () => {
    expect(Array.from(rankPixels({ width: 4, height: 1, values: Float32Array.from([0.5, 2, 0.5, 3]) }))).toEqual([2, 1, 3, 0]);
  });

  it('blurs without darkening the borders', () => {
    const flat = tf.fill([1, 8, 8, 2], 0.7) as tf.Tensor4D;
    const blurred = gaussianBlur(flat, 2);
    expect(Math.max(...Array.from(blurred.dataSync()).map((v) => Math.abs(v - 0.7)))).toBeLessThan(1e-5);
    tf.dispose([flat, blurred]);
  });
});
