import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inMemorySplit, type Dataset } from '../../src-main/engine/data/dataset';
import { mnistDataFolder, openMnist } from '../../src-main/engine/data/mnist';
import {
  adaptToInput,
  applyPreprocessor,
  computePreprocessor,
  describePreprocessor,
  parsePreprocessor,
  preprocessBatch,
  type Preprocessor,
} from '../../src-main/engine/data/preprocess';
import { tf } from '../../src-main/engine/tf';

let mnist: Dataset;
beforeAll(async () => {
  await tf.setBackend('cpu');
  mnist = await openMnist();
});

// Two 1x2 RGB images: pixel (image, position, channel)
const images = Uint8Array.from([10, 20, 30, 50, 60, 70, 30, 40, 50, 70, 80, 90]);
const tiny = { id: 'tiny', train: inMemorySplit(images, Int32Array.from([0, 1]), [1, 2, 3]) };

function close(actual: ArrayLike<number>, expected: number[], digits = 6) {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
}

describe('computePreprocessor and applyPreprocessor', () => {
  it('raw keeps 0-255, scale divides by 255, neither reads statistics', async () => {
    const raw = await computePreprocessor('raw', tiny);
    expect(raw).toEqual({ version: 1, kind: 'raw', shape: [1, 2, 3], mean: [], scale: 1, fittedOn: null });
    close(applyPreprocessor(raw, images, 2), Array.from(images));
    const scale = await computePreprocessor('scale', tiny);
    close(applyPreprocessor(scale, Uint8Array.from([0, 51, 255, 0, 0, 0]), 1), [0, 0.2, 1, 0, 0, 0]);
  });

  it('mean-pixel subtracts the per-channel mean of the training set, then divides by 255', async () => {
    const p = await computePreprocessor('mean-pixel', tiny);
    expect(p.mean).toEqual([40, 50, 60]); // R (10+50+30+70)/4, G, B
    expect(p.fittedOn).toEqual({ dataset: 'tiny', examples: 2 });
    close(applyPreprocessor(p, images.subarray(0, 6), 1), [-30, -30, -30, 10, 10, 10].map((v) => v / 255));
  });

  it("mean-image subtracts the training set's mean image pixel by pixel (the paper's)", async () => {
    const p = await computePreprocessor('mean-image', tiny);
    expect(p.mean).toEqual([20, 30, 40, 60, 70, 80]);
    const out = applyPreprocessor(p, images, 2);
    close(out, [-10, -10, -10, -10, -10, -10, 10, 10, 10, 10, 10, 10].map((v) => v / 255));
    const unscaled = await computePreprocessor('mean-image', tiny, { scale: 1 });
    close(applyPreprocessor(unscaled, images, 2), [-10, -10, -10, -10, -10, -10, 10, 10, 10, 10, 10, 10]);
  });

  it('refuses an unknown kind, a bad scale and a batch of the wrong size', async () => {
    await expect(computePreprocessor('zca', tiny)).rejects.toThrow("unknown preprocessing 'zca' (choose raw, scale, mean-pixel, mean-image)");
    await expect(computePreprocessor('scale', tiny, { scale: 0 })).rejects.toThrow('preprocessing scale must be a positive number, got 0');
    const p = await computePreprocessor('scale', tiny);
    expect(() => applyPreprocessor(p, images, 3)).toThrow('preprocessing for 1x2x3 images: got 12 bytes for 3 images (expected 18)');
  });
});

describe('a preprocessor is data', () => {
  it('survives JSON and gives the same numbers', async () => {
    const p = await computePreprocessor('mean-image', tiny);
    const stored = parsePreprocessor(JSON.parse(JSON.stringify(p)));
    expect(stored).toEqual(p);
    expect(Array.from(applyPreprocessor(stored, images, 2))).toEqual(Array.from(applyPreprocessor(p, images, 2)));
  });

  it('names what is wrong with a stored one', async () => {
    const p: Preprocessor = await computePreprocessor('mean-pixel', tiny);
    expect(() => parsePreprocessor({ ...p, mean: [1, 2] })).toThrow('stored preprocessing is invalid: mean-pixel needs 3 mean values for 1x2x3, got 2');
    expect(() => parsePreprocessor({ ...p, kind: 'whiten' })).toThrow('stored preprocessing is invalid: unknown kind "whiten"');
    expect(() => parsePreprocessor({ ...p, shape: [1, 2] })).toThrow(/shape \[1,2\] is not \[height, width, channels\]/);
    expect(() => parsePreprocessor({ ...p, version: 2 })).toThrow(/unknown version 2/);
    expect(() => parsePreprocessor(null)).toThrow(/not an object/);
  });

  it('describes itself in one line', async () => {
    expect(describePreprocessor(await computePreprocessor('mean-image', tiny))).toBe('mean-image (per-pixel mean image subtracted, then / 255, fitted on 2 examples of tiny)');
    expect(describePreprocessor(await computePreprocessor('raw', tiny))).toBe('raw (pixels 0-255)');
  });
});

describe('on MNIST', () => {
  // The training images' bytes straight from the file (header: 16 bytes), summed here independently.
  const raw = readFileSync(path.join(mnistDataFolder(), 'train-images-idx3-ubyte')).subarray(16);

  it('mean-pixel is the mean of every training pixel (about 0.1307 * 255)', async () => {
    const p = await computePreprocessor('mean-pixel', mnist);
    let sum = 0;
    for (let i = 0; i < raw.length; i++) sum += raw[i];
    expect(p.mean[0]).toBeCloseTo(sum / raw.length, 9);
    expect(p.mean[0] / 255).toBeCloseTo(0.1307, 4);
    expect(p.fittedOn).toEqual({ dataset: 'mnist', examples: 60_000 });
  });

  it('mean-image is the per-pixel mean; subtracting it centres every pixel', async () => {
    const p = await computePreprocessor('mean-image', mnist);
    expect(p.mean.length).toBe(784);
    const centre = 14 * 28 + 14;
    let sum = 0;
    for (let k = 0; k < 60_000; k++) sum += raw[k * 784 + centre];
    expect(p.mean[centre]).toBeCloseTo(sum / 60_000, 9);
    expect(p.mean[0]).toBe(0); // MNIST's corners are blank in every image
    const out = applyPreprocessor(p, raw, 60_000);
    let centred = 0;
    for (let k = 0; k < 60_000; k++) centred += out[k * 784 + centre];
    expect(Math.abs(centred / 60_000)).toBeLessThan(1e-5);
  });
});

/** Bilinear resize with half-pixel centres (TensorFlow's halfPixelCenters), written out for one channel. */
function resizeReference(src: number[], h: number, w: number, toH: number, toW: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < toH; y++) {
    const sy = Math.max(0, (y + 0.5) * (h / toH) - 0.5);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    for (let x = 0; x < toW; x++) {
      const sx = Math.max(0, (x + 0.5) * (w / toW) - 0.5);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const top = src[y0 * w + x0] + (src[y0 * w + x1] - src[y0 * w + x0]) * (sx - x0);
      const bottom = src[y1 * w + x0] + (src[y1 * w + x1] - src[y1 * w + x0]) * (sx - x0);
      out.push(top + (bottom - top) * (sy - y0));
    }
  }
  return out;
}

describe('adaptToInput', () => {
  it('resizes bilinearly with half-pixel centres', () => {
    const src = Array.from({ length: 5 * 7 }, (_, i) => (i * 37) % 11);
    const x = tf.tensor4d(src, [1, 5, 7, 1]);
    const y = adaptToInput(x, [11, 3, 1]);
    expect(y.shape).toEqual([1, 11, 3, 1]);
    close(y.dataSync(), resizeReference(src, 5, 7, 11, 3), 5);
    tf.dispose([x, y]);
  });

  it('turns a 28x28 grey batch into the 67x67 RGB input of a scaled AlexNet, channels equal', () => {
    const before = tf.memory().numTensors;
    const src = Array.from({ length: 2 * 28 * 28 }, (_, i) => (i % 97) / 97);
    const x = tf.tensor4d(src, [2, 28, 28, 1]);
    const y = adaptToInput(x, [67, 67, 3]);
    expect(y.shape).toEqual([2, 67, 67, 3]);
    const values = y.dataSync();
    const grey = resizeReference(src.slice(28 * 28), 28, 28, 67, 67); // the second image
    for (let p = 0; p < 67 * 67; p += 101) {
      for (let c = 0; c < 3; c++) expect(values[(67 * 67 + p) * 3 + c]).toBeCloseTo(grey[p], 5);
    }
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('turns RGB into grey by BT.601 luma, and leaves a fitting batch alone', () => {
    const x = tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5], [1, 2, 2, 3]);
    const y = adaptToInput(x, [2, 2, 1]);
    close(y.dataSync(), [0.299, 0.587, 0.114, 0.5]);
    expect(adaptToInput(x, [2, 2, 3])).toBe(x);
    expect(() => adaptToInput(x, [2, 2, 4])).toThrow('cannot adapt 3-channel images to a 4-channel model input (only grey <-> RGB)');
    tf.dispose([x, y]);
  });
});

describe('preprocessBatch', () => {
  it('preprocesses and adapts in one step without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const p = await computePreprocessor('scale', mnist);
    const examples = await mnist.train.read([0, 1, 2]);
    const x = preprocessBatch(p, examples, [67, 67, 3]);
    expect(x.shape).toEqual([3, 67, 67, 3]);
    expect(x.dtype).toBe('float32');
    const [min, max] = tf.tidy(() => [x.min().dataSync()[0], x.max().dataSync()[0]]);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    const same = preprocessBatch(p, examples);
    expect(same.shape).toEqual([3, 28, 28, 1]);
    close(same.dataSync().subarray(0, 784), Array.from(examples.images.subarray(0, 784), (v) => v / 255));
    tf.dispose([x, same]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
