// The wasm kernels ConvScope registers, checked against the cpu backend's kernels on the same data.
// Tolerance: max |wasm - cpu| / max(max |cpu|, 1e-6) <= 1e-4 for every output (a relative error
// measured against the largest magnitude, so near-zero elements do not dominate).
// tfjs backends are process-global: this file switches with tf.setBackend and awaits tf.ready.
import { describe, it, expect, vi, beforeAll, afterEach } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src-main/engine/tf';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels/register';
import { TANH_GRAD } from '../../src-main/engine/backend/wasm-kernels/tanh';
import { wordIndex } from '../../src-main/engine/backend/wasm-kernels/direct';

const TOL = 1e-4;
type Attrs = Record<string, unknown>;
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Deterministic values in [-scale, scale) (mulberry32). */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function relativeError(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let top = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    top = Math.max(top, Math.abs(expected[i]));
  }
  return diff / top;
}

async function use(name: 'wasm' | 'cpu') {
  await tf.setBackend(name);
  await tf.ready();
}

/** Runs one kernel on `backend` with inputs made from the same arrays; returns its output values. */
async function runKernelOn(name: string, backend: 'wasm' | 'cpu', inputs: Record<string, [Float32Array, number[]]>, attrs: Attrs) {
  await use(backend);
  return tf.tidy(() => {
    const ts = Object.fromEntries(Object.entries(inputs).map(([k, [v, s]]) => [k, tf.tensor(v, s)]));
    const out = tf.engine().runKernel(name, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { values: out.dataSync() as Float32Array, shape: out.shape };
  });
}

async function expectKernelMatchesCpu(name: string, inputs: Record<string, [Float32Array, number[]]>, attrs: Attrs) {
  const wasm = await runKernelOn(name, 'wasm', inputs, attrs);
  const cpu = await runKernelOn(name, 'cpu', inputs, attrs);
  expect(wasm.shape).toEqual(cpu.shape);
  expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(TOL);
}

let wasmBackend: tf.KernelBackend;
let cpuBackend: tf.KernelBackend;

beforeAll(async () => {
  await use('wasm');
  registerWasmTrainingKernels();
  wasmBackend = tf.findBackend('wasm')!;
  cpuBackend = tf.findBackend('cpu')!;
});

afterEach(() => {
  vi.restoreAllMocks();
});

type ConvCase = { name: string; x: number[]; f: number[]; strides: number | [number, number]; pad: Pad };
const CONV_CASES: ConvCase[] = [
  { name: 'LeNet conv1 5x5 valid', x: [4, 28, 28, 1], f: [5, 5, 1, 6], strides: 1, pad: 'valid' },
  { name: 'LeNet conv2 5x5 valid', x: [4, 12, 12, 6], f: [5, 5, 6, 16], strides: 1, pad: 'valid' },
  { name: 'AlexNet conv1 11x11 stride 4 valid (exact fit)', x: [2, 35, 35, 3], f: [11, 11, 3, 8], strides: 4, pad: 'valid' },
  { name: '11x11 stride 4 valid with unused rows (224-style)', x: [2, 32, 32, 3], f: [11, 11, 3, 4], strides: 4, pad: 'valid' },
  { name: '5x5 stride 1 same', x: [2, 8, 8, 4], f: [5, 5, 4, 6], strides: 1, pad: 'same' },
  { name: '5x5 pad 2 (AlexNet conv2)', x: [2, 9, 9, 4], f: [5, 5, 4, 6], strides: 1, pad: 2 },
  { name: '3x3 pad 1 (AlexNet conv3-5)', x: [2, 6, 6, 8], f: [3, 3, 8, 5], strides: 1, pad: 1 },
  { name: '3x3 stride 2 same, odd size', x: [2, 9, 9, 4], f: [3, 3, 4, 5], strides: 2, pad: 'same' },
  { name: '3x3 stride 2 same, even size', x: [2, 10, 10, 4], f: [3, 3, 4, 5], strides: 2, pad: 'same' },
  { name: '3x5 strides [2,1] explicit asymmetric pads', x: [2, 13, 11, 3], f: [3, 5, 3, 4], strides: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: '1x1 stride 2 (filter smaller than the stride)', x: [2, 7, 7, 3], f: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x5 stride 1 same (non-square rotation)', x: [2, 7, 9, 3], f: [3, 5, 3, 4], strides: 1, pad: 'same' },
  { name: '13 output channels (a partial vector of 8), 2 input', x: [3, 9, 10, 2], f: [3, 3, 2, 13], strides: 1, pad: 'valid' },
  { name: 'one output channel, stride 2, explicit padding', x: [2, 11, 11, 3], f: [4, 4, 3, 1], strides: 2, pad: [[0, 0], [2, 1], [1, 2], [0, 0]] },
  { name: 'row tails: 7 outputs per row (4 + 3), 1 input channel', x: [2, 11, 11, 1], f: [5, 5, 1, 6], strides: 1, pad: 'valid' },
  { name: '40 output and 36 input channels (the XNNPACK paths)', x: [2, 8, 8, 36], f: [3, 3, 36, 40], strides: 1, pad: 'same' },
  { name: '40 channels, stride 2, valid with unused rows (XNNPACK paths)', x: [2, 12, 12, 36], f: [3, 3, 36, 40], strides: 2, pad: 'valid' },
];

function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x as never, c.f as never, c.strides, 1, c.pad).outShape;
}

describe('Conv2DBackpropFilter (added for wasm) matches the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(c.name, async () => {
      const dyShape = convOutShape(c);
      await expectKernelMatchesCpu('Conv2DBackpropFilter', {
        x: [values(size(c.x), 1), c.x],
        dy: [values(size(dyShape), 2), dyShape],
      }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f });
    });
  }
});

describe('Conv2D (direct kernel for few input channels) matches the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(c.name, async () => {
      await expectKernelMatchesCpu('Conv2D', {
        x: [values(size(c.x), 5), c.x],
        filter: [values(size(c.f), 6), c.f],
      }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 });
    });
  }
  it('dilation 2', async () => {
    await expectKernelMatchesCpu('Conv2D', { x: [values(2 * 9 * 9 * 2, 7), [2, 9, 9, 2]], filter: [values(3 * 3 * 2 * 5, 8), [3, 3, 2, 5]] }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 });
  });
});

describe('FusedConv2D (direct kernel with bias, linear or ReLU) matches the cpu backend', () => {
  const cases = CONV_CASES.filter((c) => c.x[3] <= 8);
  for (const activation of ['linear', 'relu', 'elu']) {
    for (const c of cases.slice(0, activation === 'linear' ? cases.length : 4)) {
      it(`${activation}: ${c.name}`, async () => {
        const co = c.f[3];
        await expectKernelMatchesCpu('FusedConv2D', {
          x: [values(size(c.x), 5), c.x],
          filter: [values(size(c.f), 6), c.f],
          bias: [values(co, 7), [co]],
        }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, activation });
      });
    }
  }
  it('without a bias, and with prelu weights (the shipped kernel)', async () => {
    const c = CONV_CASES[1];
    await expectKernelMatchesCpu('FusedConv2D', { x: [values(size(c.x), 5), c.x], filter: [values(size(c.f), 6), c.f] }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, activation: 'relu' });
    await expectKernelMatchesCpu('FusedConv2D', {
      x: [values(size(c.x), 5), c.x], filter: [values(size(c.f), 6), c.f], bias: [values(16, 7), [16]], preluActivationWeights: [values(16, 8), [16]],
    }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, activation: 'prelu' });
  });
});

describe('Slice and SplitV (copies inside the wasm memory) match the cpu backend', () => {
  const cases: [number[], number[], number[]][] = [
    [[7], [2], [4]],
    [[4, 5, 6], [1, 0, 0], [2, 5, 6]],
    [[4, 5, 6], [1, 2, 0], [2, 3, 6]],
    [[4, 5, 6], [0, 1, 2], [4, 3, 3]],
    [[2, 3, 4, 5], [1, 1, 1, 1], [1, -1, 2, -1]],
    [[3, 3, 192, 8], [0, 0, 0, 4], [3, 3, 192, 4]],
    [[2, 3, 4, 5, 6], [0, 1, 0, 2, 1], [2, 2, 4, 3, 5]],
    [[3, 4], [1, 1], [0, 2]],
  ];
  for (const [shape, begin, extent] of cases) {
    it(`[${shape}] from [${begin}] size [${extent}], float32 and int32`, async () => {
      const x: [Float32Array, number[]] = [values(size(shape), 50), shape];
      await expectKernelMatchesCpu('Slice', { x }, { begin, size: extent });
      await use('wasm');
      const ints = tf.tidy(() => tf.slice(tf.tensor(Int32Array.from(x[0], (v) => Math.round(v * 1000)), shape, 'int32'), begin, extent).dataSync());
      await use('cpu');
      const want = tf.tidy(() => tf.slice(tf.tensor(Int32Array.from(x[0], (v) => Math.round(v * 1000)), shape, 'int32'), begin, extent).dataSync());
      expect(Array.from(ints)).toEqual(Array.from(want));
    });
  }
  it('word indices of byte offsets past 2 GiB stay positive (AlexNet training passes 2 GiB of wasm memory)', () => {
    expect(wordIndex(2 ** 31 + 8)).toBe(2 ** 29 + 2);
    expect(wordIndex(2 ** 32 - 4)).toBe(2 ** 30 - 1);
    expect(wordIndex(4096)).toBe(1024);
  });
  for (const [shape, splits, axis] of [[[3, 3, 192, 8], 2, 3], [[1, 27, 27, 96], [40, 56], -1], [[6, 4, 5], [1, 3, 2], 0], [[5, 6, 7], 3, 1]] as [number[], number | number[], number][]) {
    it(`split [${shape}] into ${JSON.stringify(splits)} along ${axis}: the same parts, bit for bit, nothing read back`, async () => {
      const v = values(size(shape), 51);
      v[3] = NaN;
      v[4] = -0;
      const parts = async (backend: 'wasm' | 'cpu') => {
        await use(backend);
        const x = tf.tensor(v, shape);
        const spy = vi.spyOn(wasmBackend, 'readSync');
        const out = tf.split(x, splits, axis);
        if (backend === 'wasm') expect(spy).not.toHaveBeenCalled();
        vi.restoreAllMocks();
        const got = out.map((t) => {
          const d = t.dataSync();
          return { shape: t.shape, bits: Array.from(new Int32Array(d.buffer, d.byteOffset, d.length)) };
        });
        tf.dispose([x, ...out]);
        return got;
      };
      expect(await parts('wasm')).toEqual(await parts('cpu'));
    });
  }
});

describe('Identity (replaced: shares the data instead of copying it)', () => {
  it('a clone holds the same values without a copy, and either can be disposed first', async () => {
    await use('wasm');
    const a = tf.tensor(values(1000, 3), [10, 100]);
    const before = wasmBackend.numDataIds();
    const b = tf.clone(a);
    expect(wasmBackend.numDataIds()).toBe(before);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual(Array.from(values(1000, 3)));
    const c = tf.clone(b);
    c.dispose();
    expect(b.dataSync()[999]).toBe(values(1000, 3)[999]);
    b.dispose();
    expect(wasmBackend.numDataIds()).toBe(before - 1);
  });
  it('a variable assigned after a clone leaves the clone as it was', async () => {
    await use('wasm');
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const kept = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(kept.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, kept]);
  });
});

describe('Conv2DBackpropInput (XNNPACK replacement) matches the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(c.name, async () => {
      const dyShape = convOutShape(c);
      await expectKernelMatchesCpu('Conv2DBackpropInput', {
        dy: [values(size(dyShape), 3), dyShape],
        filter: [values(size(c.f), 4), c.f],
      }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    });
  }
});

type PoolCase = { name: string; x: number[]; filter: number; strides: number; pad: Pad; data?: (v: Float32Array) => Float32Array };
const POOL_CASES: PoolCase[] = [
  { name: 'LeNet 2x2 stride 2', x: [4, 24, 24, 6], filter: 2, strides: 2, pad: 'valid' },
  { name: '2x2 stride 2, every window negative (tanh outputs)', x: [2, 8, 8, 16], filter: 2, strides: 2, pad: 'valid', data: (v) => v.map((e) => e - 2) },
  { name: 'AlexNet overlapping 3x3 stride 2', x: [2, 27, 27, 8], filter: 3, strides: 2, pad: 'valid' },
  { name: '3x3 stride 2 same', x: [2, 13, 13, 4], filter: 3, strides: 2, pad: 'same' },
  { name: '2x2 stride 1 same', x: [2, 7, 7, 3], filter: 2, strides: 1, pad: 'same' },
  { name: '3x3 stride 2 pad 1, negative', x: [2, 10, 10, 3], filter: 3, strides: 2, pad: 1, data: (v) => v.map((e) => e - 3) },
  { name: 'ties go to the first maximum of each window', x: [2, 9, 9, 5], filter: 3, strides: 2, pad: 'valid', data: (v) => v.map((e) => Math.round(e * 2)) },
  { name: 'ties across four-channel groups and a tail (8 + 3 channels)', x: [1, 6, 6, 11], filter: 2, strides: 2, pad: 'valid', data: (v) => v.map((e) => Math.round(e)) },
  { name: '-Infinity and the largest floats in windows', x: [2, 8, 8, 6], filter: 2, strides: 2, pad: 'valid', data: (v) => v.map((e, i) => (i % 7 === 0 ? -Infinity : i % 11 === 0 ? 3.4e38 * Math.sign(e) : e)) },
  { name: 'windows wider than tall, stride 1 x 3', x: [1, 9, 10, 4], filter: 2, strides: 2, pad: 'valid' },
];

describe('MaxPoolGrad (replaced: the shipped one is wrong for negative windows) matches the cpu backend', () => {
  for (const c of POOL_CASES) {
    it(c.name, async () => {
      const x = (c.data ?? ((v) => v))(values(size(c.x), 5, 1));
      const out = tf.backend_util.computePool2DInfo(c.x as never, c.filter, c.strides, 1, c.pad).outShape;
      await use('cpu');
      const y = tf.tidy(() => tf.maxPool(tf.tensor4d(x, c.x as never), c.filter, c.strides, c.pad).dataSync() as Float32Array);
      await expectKernelMatchesCpu('MaxPoolGrad', {
        dy: [values(size(out), 6), out],
        input: [x, c.x],
        output: [y, out],
      }, { filterSize: c.filter, strides: c.strides, pad: c.pad });
    });
  }

  it('the shipped wasm MaxPoolGrad is in fact wrong for negative windows (why it is replaced)', async () => {
    const shape = [1, 4, 4, 1];
    const x = values(16, 7).map((e) => e - 2);
    const inputs = { dy: [values(4, 8), [1, 2, 2, 1]], input: [x, shape], output: [new Float32Array(4), [1, 2, 2, 1]] } as Record<string, [Float32Array, number[]]>;
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    const ours = tf.getKernel('MaxPoolGrad', 'wasm')!;
    const shipped = (ours as unknown as Record<symbol, tf.KernelConfig>)[Symbol.for('convscope.wasm.shippedKernel')];
    tf.unregisterKernel('MaxPoolGrad', 'wasm');
    tf.registerKernel(shipped);
    try {
      const wrong = await runKernelOn('MaxPoolGrad', 'wasm', inputs, attrs);
      const right = await runKernelOn('MaxPoolGrad', 'cpu', inputs, attrs);
      expect(relativeError(wrong.values, right.values)).toBeGreaterThan(0.5);
    } finally {
      tf.unregisterKernel('MaxPoolGrad', 'wasm');
      tf.registerKernel(ours);
    }
  });
});

describe('LRN (replaced for beta 0.75 and 0.5: square roots in SIMD) matches the cpu backend', () => {
  const cases: [string, number[], Attrs][] = [
    ['the paper\'s constants over 96 channels', [2, 5, 5, 96], { depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 }],
    ['beta 0.5, radius 1, 13 channels (fours and a tail)', [1, 4, 3, 13], { depthRadius: 1, bias: 1, alpha: 0.5, beta: 0.5 }],
    ['fewer channels than a window plus four', [3, 2, 2, 5], { depthRadius: 2, bias: 1, alpha: 0.3, beta: 0.75 }],
    ['fewer channels than the radius', [2, 3, 3, 2], { depthRadius: 3, bias: 2, alpha: 0.2, beta: 0.75 }],
    ['radius 0', [1, 3, 3, 8], { depthRadius: 0, bias: 1, alpha: 0.1, beta: 0.75 }],
    ['another beta (the shipped kernel)', [1, 4, 4, 12], { depthRadius: 2, bias: 1, alpha: 0.1, beta: 0.6 }],
  ];
  for (const [name, shape, attrs] of cases) {
    it(name, async () => {
      await expectKernelMatchesCpu('LRN', { x: [values(size(shape), 31, 4), shape] }, attrs);
    });
  }
});

describe('BatchMatMul with transposed operands matches the cpu backend', () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`transposeA=${ta} transposeB=${tb}`, async () => {
      const a = ta ? [5, 7] : [7, 5];
      const b = tb ? [3, 5] : [5, 3];
      await expectKernelMatchesCpu('BatchMatMul', { a: [values(35, 9), a], b: [values(15, 10), b] }, { transposeA: ta, transposeB: tb });
      await expectKernelMatchesCpu('BatchMatMul', { a: [values(35, 9), [1, ...a]], b: [values(15, 10), [1, ...b]] }, { transposeA: ta, transposeB: tb });
    });
  }
  for (const [ta, tb] of [[false, true], [true, true], [true, false]]) {
    it(`a wide right operand (computed as (op(B)^T op(A)^T)^T where that moves fewer elements), transposeA=${ta} transposeB=${tb}`, async () => {
      const a = ta ? [8, 3] : [3, 8];
      const b = tb ? [40, 8] : [8, 40];
      await expectKernelMatchesCpu('BatchMatMul', { a: [values(24, 13), a], b: [values(320, 14), b] }, { transposeA: ta, transposeB: tb });
    });
  }
  it('batched products (left to the shipped kernel)', async () => {
    await expectKernelMatchesCpu('BatchMatMul', { a: [values(105, 11), [3, 5, 7]], b: [values(30, 12), [3, 5, 2]] }, { transposeA: true, transposeB: false });
  });
});

describe('Tanh and its gradient (direct SIMD kernels)', () => {
  it('tanh is within 2 float32 ulps of Math.tanh from tiny to saturating inputs; -0, ±1, NaN kept', async () => {
    const x = values(65536, 41, 12);
    for (let i = 0; i < 4096; i++) x[i] = (i / 4096 - 0.5) * 1.25; // both sides of the series/exp switch at 0.5
    x.set([0, -0, 1e-6, -1e-6, 1e-30, 0.5, -0.5, 30, -30, 90, -90, Infinity, -Infinity, NaN]);
    const n = x.length + 3; // a tail of 3 after the vectors of 4
    const input = new Float32Array(n);
    input.set(x);
    input.set([0.3, -2.5, 7], x.length);
    const y = (await runKernelOn('Tanh', 'wasm', { x: [input, [n]] }, {})).values;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(input[i])) continue;
      const want = Math.fround(Math.tanh(input[i]));
      worst = Math.max(worst, Math.abs(y[i] - want) / Math.max(Math.abs(want), 2 ** -126));
    }
    expect(worst).toBeLessThanOrEqual(2 * 2 ** -23);
    expect(Object.is(y[0], 0) && Object.is(y[1], -0)).toBe(true);
    expect(Array.from(y.subarray(7, 13))).toEqual([1, -1, 1, -1, 1, -1]);
    expect(y[13]).toBeNaN();
  });
  it("the gradient on wasm is tfjs' (1 - y^2) dy to the bit, in one kernel", async () => {
    const y = values(1003, 42, 1);
    const dy = values(1003, 43, 2);
    const got = (await runKernelOn(TANH_GRAD, 'wasm', { y: [y, [1003]], dy: [dy, [1003]] }, {})).values;
    await use('cpu');
    const want = tf.tidy(() => tf.mul(tf.sub(tf.scalar(1), tf.square(tf.tensor1d(y))), tf.tensor1d(dy)).dataSync());
    expect(Array.from(got)).toEqual(Array.from(want));
    await use('wasm');
    const x = tf.tensor1d(values(64, 44, 3));
    const spy = vi.spyOn(tf.engine(), 'runKernel');
    tf.grad((t: tf.Tensor) => tf.tanh(t))(x).dispose();
    const names = spy.mock.calls.map((c) => c[0]);
    expect(names).toContain(TANH_GRAD);
    expect(names).not.toContain('Square');
    x.dispose();
  });
});

describe('bias Add and its gradient Sum (direct kernels) match the cpu backend', () => {
  for (const c of [1, 3, 5, 6, 10, 16, 84]) {
    it(`${c} channels: x + b, b + x, a [1, 1, c] bias; the sum over every axis but the last, with and without keepDims`, async () => {
      const shape = [3, 5, 7, c];
      const x: [Float32Array, number[]] = [values(size(shape), c, 3), shape];
      const b = values(c, 100 + c);
      await expectKernelMatchesCpu('Add', { a: x, b: [b, [c]] }, {});
      await expectKernelMatchesCpu('Add', { a: [b, [c]], b: x }, {});
      await expectKernelMatchesCpu('Add', { a: x, b: [b, [1, 1, c]] }, {});
      await expectKernelMatchesCpu('Sum', { x }, { axis: [0, 1, 2], keepDims: false });
      await expectKernelMatchesCpu('Sum', { x }, { axis: [2, -3, 0], keepDims: true });
      await expectKernelMatchesCpu('Sum', { x: [values(11 * c, 3), [11, c]] }, { axis: 0, keepDims: false });
    });
  }
  it('other adds and sums (same shapes, a broadcast row, inner axes, int32) go to the shipped kernels', async () => {
    await expectKernelMatchesCpu('Add', { a: [values(24, 1), [2, 3, 4]], b: [values(24, 2), [2, 3, 4]] }, {});
    await expectKernelMatchesCpu('Add', { a: [values(24, 1), [2, 3, 4]], b: [values(3, 2), [3, 1]] }, {});
    await expectKernelMatchesCpu('Sum', { x: [values(24, 1), [2, 3, 4]] }, { axis: [1, 2], keepDims: false });
    await expectKernelMatchesCpu('Sum', { x: [values(24, 1), [2, 3, 4]] }, { axis: [0, 1, 2], keepDims: false });
    await use('wasm');
    const ints = tf.tidy(() => tf.add(tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), tf.tensor1d([10, 20], 'int32')).arraySync());
    expect(ints).toEqual([[11, 22], [13, 24]]);
  });
  it('a bias sum over many rows keeps float32 accuracy (1e-5 relative to a float64 sum)', async () => {
    const rows = 128 * 24 * 24;
    const x = values(rows * 6, 77, 1);
    await use('wasm');
    const got = tf.tidy(() => tf.sum(tf.tensor2d(x, [rows, 6]), 0).dataSync());
    for (let j = 0; j < 6; j++) {
      let want = 0;
      let scale = 0;
      for (let r = 0; r < rows; r++) {
        want += x[r * 6 + j];
        scale += Math.abs(x[r * 6 + j]);
      }
      expect(Math.abs(got[j] - want) / scale).toBeLessThan(1e-5);
    }
  });
});

describe('the kernels stay in the wasm heap', () => {
  const kernels: [string, Record<string, number[]>, Attrs][] = [
    ['Conv2DBackpropFilter', { x: [2, 35, 35, 3], dy: [2, 7, 7, 8] }, { strides: 4, pad: 'valid', dataFormat: 'NHWC', filterShape: [11, 11, 3, 8] }],
    ['Conv2DBackpropFilter', { x: [2, 32, 32, 3], dy: [2, 6, 6, 4] }, { strides: 4, pad: 'valid', dataFormat: 'NHWC', filterShape: [11, 11, 3, 4] }],
    ['Conv2DBackpropFilter', { x: [2, 12, 12, 6], dy: [2, 8, 8, 16] }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 6, 16] }],
    ['Conv2DBackpropFilter', { x: [2, 9, 9, 3], dy: [2, 5, 5, 6] }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 6] }],
    ['Conv2DBackpropInput', { dy: [2, 5, 5, 5], filter: [3, 3, 4, 5] }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 9, 4] }],
    ['Conv2DBackpropInput', { dy: [2, 5, 5, 40], filter: [3, 3, 36, 40] }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 9, 36] }],
    ['Conv2D', { x: [2, 9, 9, 1], filter: [5, 5, 1, 6] }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }],
    ['Add', { a: [2, 9, 9, 6], b: [6] }, {}],
    ['Sum', { x: [2, 9, 9, 6] }, { axis: [0, 1, 2], keepDims: false }],
    ['Slice', { x: [2, 9, 9, 6] }, { begin: [0, 1, 2, 3], size: [2, 5, 4, 2] }],
    ['MaxPoolGrad', { dy: [2, 6, 6, 4], input: [2, 13, 13, 4], output: [2, 6, 6, 4] }, { filterSize: 3, strides: 2, pad: 'valid' }],
    ['MaxPoolGrad', { dy: [2, 7, 7, 4], input: [2, 13, 13, 4], output: [2, 7, 7, 4] }, { filterSize: 3, strides: 2, pad: 'same' }],
    ['BatchMatMul', { a: [5, 7], b: [3, 5] }, { transposeA: true, transposeB: true }],
    ['Tanh', { x: [2, 9, 9, 4] }, {}],
    [TANH_GRAD, { y: [2, 9, 9, 4], dy: [2, 9, 9, 4] }, {}],
    ['LRN', { x: [2, 5, 5, 16] }, { depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 }],
  ];
  for (const [name, shapes, attrs] of kernels) {
    it(`${name} reads nothing back to JavaScript, uses no cpu backend and frees its intermediates`, async () => {
      await use('wasm');
      const inputs = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, tf.tensor(values(size(s), 20 + i), s)]));
      const tensorsBefore = tf.memory().numTensors;
      const dataBefore = wasmBackend.numDataIds();
      const spies = [
        vi.spyOn(wasmBackend, 'readSync'), vi.spyOn(wasmBackend, 'read'),
        vi.spyOn(tf.Tensor.prototype, 'dataSync'), vi.spyOn(tf.Tensor.prototype, 'data'),
        vi.spyOn(cpuBackend, 'write'), vi.spyOn(cpuBackend, 'readSync'),
      ];
      const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      vi.restoreAllMocks();
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.memory().numTensors).toBe(tensorsBefore + 1);
      expect(wasmBackend.numDataIds()).toBe(dataBefore + 1);
      out.dispose();
      Object.values(inputs).forEach((t) => t.dispose());
    });
  }
});

/** Parameter gradients of a loss on one backend, from the same arrays. */
async function paramGrads(
  backend: 'wasm' | 'cpu',
  shapes: Record<string, number[]>,
  loss: (p: Record<string, tf.Tensor>) => tf.Tensor,
): Promise<Record<string, Float32Array>> {
  await use(backend);
  return tf.tidy(() => {
    const names = Object.keys(shapes);
    const params = names.map((n, i) => tf.tensor(values(size(shapes[n]), 100 + i, n.startsWith('x') ? 1 : 0.3), shapes[n]));
    const grads = tf.grads((...ps: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, ps[i]]))))(params);
    return Object.fromEntries(names.map((n, i) => [n, grads[i].dataSync() as Float32Array]));
  });
}

async function expectGradsMatchCpu(shapes: Record<string, number[]>, loss: (p: Record<string, tf.Tensor>) => tf.Tensor) {
  const wasm = await paramGrads('wasm', shapes, loss);
  const cpu = await paramGrads('cpu', shapes, loss);
  for (const name of Object.keys(shapes)) {
    expect(relativeError(wasm[name], cpu[name]), name).toBeLessThanOrEqual(TOL);
  }
}

const labels = (n: number, classes: number) => tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % classes), 'int32'), classes);

describe('every gradient of a training step on wasm matches the cpu backend', () => {
  const lenetShapes = {
    x: [8, 28, 28, 1], c1: [5, 5, 1, 6], b1: [6], c2: [5, 5, 6, 16], b2: [16],
    d1: [256, 120], e1: [120], d2: [120, 84], e2: [84], d3: [84, 10], e3: [10],
  };
  const lenet = (act: (t: tf.Tensor) => tf.Tensor, dropout: number) => (p: Record<string, tf.Tensor>) => {
    const conv = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => act(tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'), b));
    let h = tf.maxPool(conv(p.x, p.c1, p.b1) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.maxPool(conv(h, p.c2, p.b2) as tf.Tensor4D, 2, 2, 'valid');
    let z = tf.reshape(h, [8, 256]);
    z = act(tf.add(tf.matMul(z, p.d1), p.e1));
    if (dropout) z = tf.dropout(z, dropout, undefined, 17);
    z = act(tf.add(tf.matMul(z, p.d2), p.e2));
    if (dropout) z = tf.dropout(z, dropout, undefined, 18);
    return tf.losses.softmaxCrossEntropy(labels(8, 10), tf.add(tf.matMul(z, p.d3), p.e3));
  };

  it('LeNet-5 with tanh (conv, maxpool, dense, softmax cross-entropy)', async () => {
    await expectGradsMatchCpu(lenetShapes, lenet(tf.tanh, 0));
  });
  it('LeNet-5 with ReLU and dropout 0.2', async () => {
    await expectGradsMatchCpu(lenetShapes, lenet(tf.relu, 0.2));
  });
  it('LeNet-5 with sigmoid', async () => {
    await expectGradsMatchCpu(lenetShapes, lenet(tf.sigmoid, 0));
  });

  it('an AlexNet-like net: conv 11x11/4, LRN, maxpool 3x3/2, grouped conv, batch norm, ReLU, dropout', async () => {
    const shapes = {
      x: [2, 67, 67, 3], c1: [11, 11, 3, 8], b1: [8], g1: [5, 5, 4, 6], g2: [5, 5, 4, 6], b2: [12],
      gamma: [12], beta: [12], d1: [108, 16], e1: [16], d2: [16, 5], e2: [5],
    };
    await expectGradsMatchCpu(shapes, (p) => {
      let h = tf.relu(tf.add(tf.conv2d(p.x as tf.Tensor4D, p.c1 as tf.Tensor4D, 4, 'valid'), p.b1)); // 15x15x8
      h = tf.localResponseNormalization(h as tf.Tensor4D, 2, 2, 1e-4, 0.75);
      h = tf.maxPool(h as tf.Tensor4D, 3, 2, 'valid'); // 7x7x8
      const [a, b] = tf.split(h, 2, 3); // groups 2, as the zoo computes grouped convolutions
      h = tf.concat([tf.conv2d(a as tf.Tensor4D, p.g1 as tf.Tensor4D, 1, 'same'), tf.conv2d(b as tf.Tensor4D, p.g2 as tf.Tensor4D, 1, 'same')], 3);
      h = tf.relu(tf.add(h, p.b2));
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, p.beta, tf.add(p.gamma, 1), 1e-3);
      h = tf.maxPool(h as tf.Tensor4D, 3, 2, 'valid'); // 3x3x12
      let z = tf.relu(tf.add(tf.matMul(tf.reshape(h, [2, 108]), p.d1), p.e1));
      z = tf.dropout(z, 0.5, undefined, 19);
      return tf.losses.softmaxCrossEntropy(labels(2, 5), tf.add(tf.matMul(z, p.d2), p.e2));
    });
  });

  it('a grouped convolution built as split -> conv2d per group -> concat', async () => {
    await expectGradsMatchCpu({ x: [2, 9, 9, 6], f1: [3, 3, 3, 4], f2: [3, 3, 3, 4] }, (p) => {
      const [a, b] = tf.split(p.x, 2, 3);
      const y = tf.concat([tf.conv2d(a as tf.Tensor4D, p.f1 as tf.Tensor4D, 2, 'same'), tf.conv2d(b as tf.Tensor4D, p.f2 as tf.Tensor4D, 2, 'same')], 3);
      return tf.sum(tf.mul(y, tf.sin(y)));
    });
  });
});

describe('training on wasm follows training on cpu', () => {
  /** 20 SGD steps of a small conv net on a learnable synthetic task; returns the losses. */
  async function train(backend: 'wasm' | 'cpu') {
    await use(backend);
    const n = 16;
    // Class = which image half holds a bright bar (top, bottom, left, right).
    const xs = new Float32Array(n * 12 * 12);
    const ys: number[] = [];
    for (let i = 0; i < n; i++) {
      const cls = i % 4;
      ys.push(cls);
      for (let r = 0; r < 12; r++) {
        for (let c = 0; c < 12; c++) {
          const on = cls === 0 ? r < 6 : cls === 1 ? r >= 6 : cls === 2 ? c < 6 : c >= 6;
          xs[i * 144 + r * 12 + c] = (on ? 1 : 0) + 0.1 * values(1, i * 144 + r * 12 + c)[0];
        }
      }
    }
    const x = tf.tensor4d(xs, [n, 12, 12, 1]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), 4));
    // Variables survive tidy; their initial values do not.
    const w = tf.tidy(() => ({
      c1: tf.variable(tf.tensor(values(3 * 3 * 4, 31, 0.5), [3, 3, 1, 4])),
      b1: tf.variable(tf.zeros([4])),
      d1: tf.variable(tf.tensor(values(100 * 4, 32, 0.2), [100, 4])),
      e1: tf.variable(tf.zeros([4])),
    }));
    const opt = tf.train.sgd(0.5);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 20; step++) {
      const cost = opt.minimize(() => {
        const h = tf.maxPool(tf.tanh(tf.add(tf.conv2d(x, w.c1 as tf.Tensor4D, 1, 'valid'), w.b1)) as tf.Tensor4D, 2, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.reshape(h, [n, 100]), w.d1), w.e1)) as tf.Scalar;
      }, true)!;
      losses.push(cost.dataSync()[0]);
      cost.dispose();
      counts.push(tf.memory().numTensors);
    }
    [x, y, ...Object.values(w)].forEach((t) => t.dispose());
    opt.dispose();
    return { losses, counts };
  }

  it('loss falls on both, the sequences agree to 1e-3, and no tensor leaks', async () => {
    const start = tf.memory().numTensors;
    const wasmData = wasmBackend.numDataIds();
    const wasm = await train('wasm');
    const cpu = await train('cpu');
    expect(wasm.losses.at(-1)!).toBeLessThan(wasm.losses[0] * 0.5);
    expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0] * 0.5);
    for (let i = 0; i < 20; i++) expect(Math.abs(wasm.losses[i] - cpu.losses[i])).toBeLessThanOrEqual(1e-3);
    expect(new Set(wasm.counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
    expect(wasmBackend.numDataIds()).toBe(wasmData);
  });
});
