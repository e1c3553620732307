import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { resolveModel, type ResolvedModel } from '../../src-main/engine/inspect';
import { inverseRfft2d, rfftWidth } from '../../src-main/engine/insight/fourier';
import { bilinearWarp } from '../../src-main/engine/insight/warp';
import { visualise } from '../../src-main/engine/insight/feature-vis';
import { applyPreprocessor } from '../../src-main/engine/data/preprocess';
import { defaultPreprocessor } from '../../src-main/engine/inspect/input';
import { resourcesDir } from '../../src-main/engine/paths';

let m: ResolvedModel;
beforeAll(async () => {
  m = await resolveModel(path.join(resourcesDir(), 'pretrained', 'lenet5-mnist'));
});
afterAll(() => m.model.dispose());

describe('inverse real FFT by matrix products', () => {
  it.each([
    [6, 7],
    [5, 8],
  ])('inverts a directly computed rfft2d of a %ix%i image', async (h, w) => {
    const x = Array.from({ length: 2 * h * w }, (_, i) => Math.sin(i * 1.7) + (i % 5) / 3);
    const wf = rfftWidth(w);
    const re = new Float32Array(2 * h * wf);
    const im = new Float32Array(2 * h * wf);
    for (let c = 0; c < 2; c++) {
      for (let u = 0; u < h; u++) {
        for (let v = 0; v < wf; v++) {
          let [sr, si] = [0, 0];
          for (let y = 0; y < h; y++) {
            for (let xx = 0; xx < w; xx++) {
              const a = -2 * Math.PI * ((u * y) / h + (v * xx) / w);
              sr += x[c * h * w + y * w + xx] * Math.cos(a);
              si += x[c * h * w + y * w + xx] * Math.sin(a);
            }
          }
          re[c * h * wf + u * wf + v] = sr;
          im[c * h * wf + u * wf + v] = si;
        }
      }
    }
    const irfft = inverseRfft2d(h, w);
    const out = tf.tidy(() => irfft.apply(tf.tensor3d(re, [2, h, wf]), tf.tensor3d(im, [2, h, wf])));
    const got = await out.data();
    out.dispose();
    irfft.dispose();
    got.forEach((v, i) => expect(v).toBeCloseTo(x[i], 4));
  });
});

describe('bilinear warp', () => {
  it('samples between pixels, fills outside, and its gradient is the adjoint (sum of <warp(x), g> over x)', async () => {
    const img = tf.tensor3d([0, 1, 2, 3], [2, 2, 1]);
    const ys = Float32Array.from([0.5, 0, -5]);
    const xs = Float32Array.from([0.5, 1, 0]);
    const [out, grad] = tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(bilinearWarp(x as tf.Tensor3D, ys, xs, 1, 3, 0.5), tf.tensor3d([1, 10, 100], [1, 3, 1]))))(img);
      return [bilinearWarp(img, ys, xs, 1, 3, 0.5), g];
    });
    expect(Array.from(await out.data())).toEqual([1.5, 1, 0.5]);
    // d/dx of 1 * mean(all four) + 10 * x[0,1]: the outside sample does not depend on the image.
    expect(Array.from(await grad.data())).toEqual([0.25, 10.25, 0.25, 0.25]);
    tf.dispose([img, out, grad]);
  });
});

describe('feature visualisation', () => {
  it('is reproducible with its seed and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await visualise(m.model, m.preprocessor, { kind: 'channel', layer: 'conv2', channel: 3 }, { steps: 4, seed: 7 });
    const b = await visualise(m.model, m.preprocessor, { kind: 'channel', layer: 'conv2', channel: 3 }, { steps: 4, seed: 7 });
    const c = await visualise(m.model, m.preprocessor, { kind: 'channel', layer: 'conv2', channel: 3 }, { steps: 4, seed: 8 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.pixels).toEqual(b.pixels);
    expect(a.history).toEqual(b.history);
    expect(c.pixels).not.toEqual(a.pixels);
    expect([a.height, a.width, a.channels]).toEqual([28, 28, 1]);
  });

  it('a LeNet-5 class visualisation makes the model predict that class above every other', async () => {
    const target = 3;
    const vis = await visualise(m.model, m.preprocessor, { kind: 'class', classIndex: target }, { steps: 48, seed: 1 });
    expect(vis.history.at(-1)!).toBeGreaterThan(vis.history[0]);
    const x = tf.tensor4d(applyPreprocessor(m.preprocessor, vis.pixels, 1), [1, 28, 28, 1]);
    const out = m.model.predict(x) as tf.Tensor;
    const probs = Array.from(await out.data());
    tf.dispose([x, out]);
    const others = probs.filter((_, i) => i !== target);
    expect(probs[target]).toBeGreaterThan(Math.max(...others));
  });

  it('the total-variation and L2 penalties do what they say: a smoother image, one nearer mid-grey', async () => {
    const objective = { kind: 'channel' as const, layer: 'conv2', channel: 3 };
    const plain = await visualise(m.model, m.preprocessor, objective, { steps: 24, seed: 4 });
    const smooth = await visualise(m.model, m.preprocessor, objective, { steps: 24, seed: 4, tv: 20 });
    const grey = await visualise(m.model, m.preprocessor, objective, { steps: 24, seed: 4, l2: 20 });
    const tv = (p: Uint8Array) => {
      let sum = 0;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
        if (x < 27) sum += Math.abs(p[y * 28 + x + 1] - p[y * 28 + x]);
        if (y < 27) sum += Math.abs(p[(y + 1) * 28 + x] - p[y * 28 + x]);
      }
      return sum;
    };
    const spread = (p: Uint8Array) => p.reduce((a, v) => a + (v - 127.5) ** 2, 0);
    expect(tv(smooth.pixels)).toBeLessThan(0.8 * tv(plain.pixels));
    expect(spread(grey.pixels)).toBeLessThan(0.8 * spread(plain.pixels));
  });

  it('an RGB model gets a colour image from the decorrelated parameterisation, reproducibly', async () => {
    const rgb = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [24, 24, 3], filters: 4, kernelSize: 5, name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
    const pre = defaultPreprocessor([24, 24, 3]);
    const a = await visualise(rgb, pre, { kind: 'channel', layer: 'conv', channel: 1 }, { steps: 16, seed: 3 });
    const b = await visualise(rgb, pre, { kind: 'channel', layer: 'conv', channel: 1 }, { steps: 16, seed: 3 });
    rgb.dispose();
    expect([a.height, a.width, a.channels]).toEqual([24, 24, 3]);
    expect(a.pixels).toEqual(b.pixels);
    expect(a.history.at(-1)!).toBeGreaterThan(a.history[0]);
    // Not a grey image: the three channels differ somewhere.
    let coloured = 0;
    for (let i = 0; i < 24 * 24; i++) if (a.pixels[3 * i] !== a.pixels[3 * i + 1] || a.pixels[3 * i + 1] !== a.pixels[3 * i + 2]) coloured++;
    expect(coloured).toBeGreaterThan(24 * 24 / 2);
  });

  it('names a channel the layer does not have', () => {
    expect(() => visualise(m.model, m.preprocessor, { kind: 'channel', layer: 'conv1', channel: 6 })).toThrow(/channels 0 to 5/);
  });
});
