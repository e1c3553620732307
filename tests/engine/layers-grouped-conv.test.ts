// GroupedConv2D: one layer, one [k, k, in/groups, out] kernel; checked against a plain-JS per-group
// convolution and, for gradients, against the equivalent block-diagonal full convolution.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { GroupedConv2D } from '../../src-main/engine/models/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Plain loops: x [h, w, cin] (one example), kernel [k, k, cin/groups, out], explicit zero padding p on
 * every side; output channel o belongs to group floor(o / (out/groups)) and sums that group's inputs only.
 */
function manualGroupedConv(
  x: Float32Array, [h, w, cin]: number[], kernel: Float32Array, k: number, out: number, groups: number, stride: number, pad: number, bias: Float32Array,
): { data: Float32Array; shape: number[] } {
  const cinG = cin / groups;
  const outG = out / groups;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const data = new Float32Array(oh * ow * out);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let o = 0; o < out; o++) {
        const g = Math.floor(o / outG);
        let sum = bias[o];
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const iy = y * stride + i - pad;
            const ix = xx * stride + j - pad;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let c = 0; c < cinG; c++) {
              sum += x[(iy * w + ix) * cin + g * cinG + c] * kernel[((i * k + j) * cinG + c) * out + o];
            }
          }
        data[(y * ow + xx) * out + o] = sum;
      }
  return { data, shape: [oh, ow, out] };
}

function layerWith(args: ConstructorParameters<typeof GroupedConv2D>[0], inShape: number[], seed: number) {
  const layer = new GroupedConv2D(args);
  tf.tidy(() => layer.apply(tf.zeros([1, ...inShape])) as tf.Tensor); // builds it (and makes it disposable)
  const [kShape, bShape] = layer.getWeights().map((w) => w.shape);
  const kernel = values(kShape.reduce((a, b) => a * b, 1), seed);
  const bias = values(bShape[0], seed + 1);
  const initial = [tf.tensor(kernel, kShape), tf.tensor(bias, bShape)];
  layer.setWeights(initial);
  tf.dispose(initial);
  return { layer, kernel, bias, kShape };
}

describe('GroupedConv2D forward', () => {
  const cases = [
    { name: 'valid, stride 2, 2 groups', inShape: [9, 9, 4], k: 3, out: 6, groups: 2, stride: 2, padding: 'valid' as const, pad: 0 },
    { name: "'same' (stride 1, odd kernel), 2 groups", inShape: [7, 6, 4], k: 3, out: 4, groups: 2, stride: 1, padding: 'same' as const, pad: 1 },
    { name: 'numeric padding 2, 4 groups', inShape: [6, 6, 8], k: 5, out: 8, groups: 4, stride: 1, padding: 2, pad: 2 },
    { name: 'numeric padding 1 with stride 2, 1 group', inShape: [8, 8, 3], k: 3, out: 5, groups: 1, stride: 2, padding: 1, pad: 1 },
  ];
  for (const c of cases) {
    it(`matches a per-group convolution by hand: ${c.name}`, () => {
      const { layer, kernel, bias, kShape } = layerWith(
        { filters: c.out, kernelSize: c.k, strides: c.stride, padding: c.padding, groups: c.groups },
        c.inShape,
        11,
      );
      expect(kShape).toEqual([c.k, c.k, c.inShape[2] / c.groups, c.out]);
      const x = values(c.inShape.reduce((a, b) => a * b, 1), 5);
      const expected = manualGroupedConv(x, c.inShape, kernel, c.k, c.out, c.groups, c.stride, c.pad, bias);
      const before = tf.memory().numTensors;
      const y = tf.tidy(() => layer.apply(tf.tensor(x, [1, ...c.inShape])) as tf.Tensor);
      expect(y.shape).toEqual([1, ...expected.shape]);
      expect(layer.computeOutputShape([null, ...c.inShape])).toEqual([null, ...expected.shape]);
      const got = y.dataSync();
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected.data[i], 4);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      layer.dispose();
    });
  }

  it('applies its activation after the bias', () => {
    const { layer } = layerWith({ filters: 4, kernelSize: 3, groups: 2, activation: 'relu' }, [5, 5, 4], 3);
    const y = tf.tidy(() => layer.apply(tf.tensor(values(100, 9), [1, 5, 5, 4])) as tf.Tensor);
    const data = y.dataSync();
    expect(Math.min(...data)).toBe(0);
    expect(Math.max(...data)).toBeGreaterThan(0);
    y.dispose();
    layer.dispose();
  });

  it('rejects channels or filters that do not split into the groups', () => {
    expect(() => new GroupedConv2D({ filters: 5, kernelSize: 3, groups: 2 })).toThrow(/5 filters cannot be split into 2 groups/);
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 3, groups: 2, name: 'g' });
    expect(() => layer.build([null, 8, 8, 3])).toThrow('g: 3 input channels cannot be split into 2 groups');
  });
});

describe('GroupedConv2D gradients', () => {
  it('flow to the input, kernel and bias, and equal those of the block-diagonal full convolution', () => {
    const inShape = [6, 6, 4];
    const groups = 2;
    const out = 6;
    const k = 3;
    const { layer, kernel, kShape } = layerWith({ filters: out, kernelSize: k, groups, padding: 'same', activation: 'tanh' }, inShape, 21);
    const x = tf.tensor(values(2 * 6 * 6 * 4, 4), [2, ...inShape]);
    const r = tf.tensor(values(2 * 6 * 6 * out, 8), [2, 6, 6, out]);
    const before = tf.memory().numTensors;

    // Block-diagonal [k, k, 4, 6] kernel: output channel o sees only its group's input channels.
    const cinG = inShape[2] / groups;
    const outG = out / groups;
    const full = new Float32Array(k * k * inShape[2] * out);
    for (let ij = 0; ij < k * k; ij++)
      for (let c = 0; c < cinG; c++)
        for (let o = 0; o < out; o++) {
          const g = Math.floor(o / outG);
          full[(ij * inShape[2] + g * cinG + c) * out + o] = kernel[(ij * cinG + c) * out + o];
        }
    const fullKernel = tf.tensor4d(full, [k, k, inShape[2], out]);
    const bias = layer.getWeights()[1]; // the layer's own variable: not disposed here

    const [dxLayer] = tf.grads((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi) as tf.Tensor, r)))([x]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar);
    const [kernelVar, biasVar] = layer.trainableWeights;
    const reference = (xi: tf.Tensor, ki: tf.Tensor, bi: tf.Tensor) =>
      tf.sum(tf.mul(tf.tanh(tf.add(tf.conv2d(xi as tf.Tensor4D, ki as tf.Tensor4D, 1, 'same'), bi)), r));
    const [dxRef, dkRef, dbRef] = tf.grads(reference)([x, fullKernel, bias]);

    const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(Math.max(...dxLayer.dataSync().map(Math.abs))).toBeGreaterThan(0);
    expect(maxAbsDiff(dxLayer, dxRef)).toBeLessThan(1e-5);
    // The grouped kernel's gradient is the block-diagonal part of the full kernel's gradient.
    const dkFull = dkRef.dataSync();
    const dk = grads[kernelVar.name].dataSync();
    expect(grads[kernelVar.name].shape).toEqual(kShape);
    for (let ij = 0; ij < k * k; ij++)
      for (let c = 0; c < cinG; c++)
        for (let o = 0; o < out; o++) {
          const g = Math.floor(o / outG);
          expect(dk[(ij * cinG + c) * out + o]).toBeCloseTo(dkFull[(ij * inShape[2] + g * cinG + c) * out + o], 4);
        }
    expect(maxAbsDiff(grads[biasVar.name], dbRef)).toBeLessThan(1e-4);

    tf.dispose([value, dxLayer, dxRef, dkRef, dbRef, fullKernel, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r]);
    layer.dispose();
  });
});

describe('GroupedConv2D serialization', () => {
  it('is registered and round-trips its config (initializers included) through tfjs deserialization', () => {
    const layer = new GroupedConv2D({
      name: 'conv2',
      filters: 8,
      kernelSize: 5,
      strides: 1,
      padding: 2,
      groups: 2,
      activation: 'relu',
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: 3 }),
      biasInitializer: tf.initializers.constant({ value: 1 }),
    });
    const config = layer.getConfig();
    expect(config).toMatchObject({ filters: 8, kernelSize: 5, padding: 2, groups: 2, activation: 'relu', biasInitializer: { className: 'Constant', config: { value: 1 } } });
    const serialized = JSON.parse(JSON.stringify({ className: GroupedConv2D.className, config }));
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap.GroupedConv2D;
    const copy = fromConfig(cls, serialized.config) as GroupedConv2D;
    expect(copy).toBeInstanceOf(GroupedConv2D);
    expect(copy.getConfig()).toEqual(config);
    tf.tidy(() => copy.apply(tf.zeros([1, 6, 6, 4])) as tf.Tensor);
    const [kernel, bias] = copy.getWeights();
    expect(kernel.shape).toEqual([5, 5, 2, 8]);
    expect(Array.from(bias.dataSync())).toEqual(new Array(8).fill(1));
    const std = Math.sqrt(tf.tidy(() => tf.moments(kernel).variance.dataSync()[0]));
    expect(std).toBeGreaterThan(0.007);
    expect(std).toBeLessThan(0.013);
    copy.dispose();
  });
});
