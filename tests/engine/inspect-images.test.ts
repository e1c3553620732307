// Inspecting real image files of every kind, refusing bad ones with specific errors while staying usable,
// and leaking no tensors over 100 inspections.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { ImageDecodeError } from '../../src-main/engine/data/image-decode';
import { inspectImage, type InspectSubject } from '../../src-main/engine/inspect/inspect';
import { defaultPreprocessor, inputPreparer } from '../../src-main/engine/inspect/input';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { inputImage } from '../../src-main/engine/inspect/render/write-inspection';
import type { Preprocessor } from '../../src-main/engine/data/preprocess';
import { badImages, writeImageFiles } from './inspect-fixtures';

let dir: string;
let files: Record<string, string>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'convscope-inspect-images-'));
  files = await writeImageFiles(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 16x16x3 -> conv relu -> pool -> conv tanh -> flatten -> dense(4, softmax). */
function rgbSubject(): InspectSubject {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input);
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }).apply(x);
  x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'tanh', name: 'c2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x);
  x = tf.layers.flatten({ name: 'f' }).apply(x);
  const out = tf.layers.dense({ units: 4, activation: 'softmax', name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: out }), classNames: ['cat', 'dog', 'cow', 'owl'], prepare: inputPreparer(defaultPreprocessor([16, 16, 3]), [16, 16, 3]) };
}

function px(pixels: Uint8Array, width: number, channels: number, x: number, y: number): number[] {
  const o = (y * width + x) * channels;
  return Array.from(pixels.subarray(o, o + channels));
}

function near(actual: number[], expected: number[], tolerance: number) {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance));
}

describe('inspectImage on real files', () => {
  const kinds = ['png-grey.png', 'png-rgb.png', 'png-rgba.png', 'png-palette.png', 'jpeg-rgb.jpg', 'jpeg-cmyk.jpg', 'jpeg-exif-rotated.jpg', 'webp.webp', 'gif.gif'];

  it.each(kinds)('reads %s, shows the oriented picture and reports every layer', async (kind) => {
    const subject = rgbSubject();
    const r = await inspectImage(subject, files[kind], { saliency: true, gradCam: true });
    expect([r.input.original.width, r.input.original.height]).toEqual([64, 48]);
    expect([r.input.width, r.input.height, r.input.channels, r.input.pixels.length]).toEqual([16, 16, 3, 768]);
    r.input.values.forEach((v, i) => expect(v).toBeCloseTo(r.input.pixels[i] / 255, 6));
    // Cover-centre fit of the 64x48 pattern: white square top-left, red left, blue right.
    const at = (x: number, y: number) => px(r.input.pixels, 16, 3, x, y);
    const grey = kind === 'png-grey.png';
    const tolerance = kind === 'png-palette.png' || kind === 'gif.gif' ? 40 : 25;
    // Half-transparent pixels are flattened onto white.
    const seen = (c: number[]) => (kind === 'png-rgba.png' ? c.map((v) => v * (128 / 255) + 255 * (127 / 255)) : c);
    near(at(0, 0), [255, 255, 255], tolerance);
    if (grey) {
      expect(at(4, 12).every((v) => v === at(4, 12)[0])).toBe(true);
      expect(at(4, 12)[0]).toBeGreaterThan(at(13, 12)[0]); // red is lighter than blue in grey
    } else if (kind === 'jpeg-cmyk.jpg') {
      // CMYK has a smaller gamut: the colours come back duller, but still red and blue.
      expect(Math.max(...at(4, 12))).toBe(at(4, 12)[0]);
      expect(Math.max(...at(13, 12))).toBe(at(13, 12)[2]);
    } else {
      near(at(4, 12), seen([220, 20, 30]), tolerance);
      near(at(13, 12), seen([20, 40, 200]), tolerance);
    }

    expect(r.predictions.map((p) => p.label).sort()).toEqual(['cat', 'cow', 'dog', 'owl']);
    expect(r.predictions.reduce((s, p) => s + p.prob, 0)).toBeCloseTo(1, 5);
    expect(r.layers.map((l) => [l.name, l.shape.join('x')])).toEqual([
      ['c1', '14x14x6'],
      ['p1', '7x7x6'],
      ['c2', '5x5x4'],
      ['f', '100'],
      ['out', '4'],
    ]);
    expect(r.layers[0].deadChannels).toBeInstanceOf(Array);
    expect(r.layers[2].saturatedFraction).toBeGreaterThanOrEqual(0);
    expect(r.layers[1].deadChannels).toBeUndefined();
    expect(r.saliency?.classIndex).toBe(r.predictions[0].index);
    expect(r.gradCam?.layer).toBe('c2');
  });

  it('feeds a grey model the grey image', async () => {
    const lenet = await resolveModel('lenet5');
    const r = await inspectImage(lenet, await readFile(files['jpeg-rgb.jpg']));
    expect([r.input.width, r.input.height, r.input.channels]).toEqual([28, 28, 1]);
    expect(r.predictions.map((p) => p.label)).toEqual(r.predictions.map((p) => `class ${p.index}`));
    expect(r.layers.find((l) => l.name === 'conv1')?.saturatedFraction).toBeGreaterThanOrEqual(0); // tanh LeNet
  });
});

describe('input preparation', () => {
  it('decodes at the stored preprocessor’s size, preprocesses, then adapts to the model’s input', async () => {
    const input = tf.input({ shape: [32, 32, 3] });
    const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(tf.layers.flatten().apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c' }).apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const preprocessor: Preprocessor = { version: 1, kind: 'mean-pixel', shape: [28, 28, 1], mean: [50], scale: 1 / 255, fittedOn: null };
    const r = await inspectImage({ model, classNames: null, prepare: inputPreparer(preprocessor, [32, 32, 3]) }, files['png-rgb.png']);
    expect(r.input.pixelShape).toEqual([28, 28, 1]);
    expect([r.input.height, r.input.width, r.input.channels]).toEqual([32, 32, 3]);
    const expected = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(r.input.pixels, (p) => (p - 50) / 255), [1, 28, 28, 1]);
      return tf.tile(tf.image.resizeBilinear(x, [32, 32], false, true), [1, 1, 1, 3]);
    });
    const e = expected.dataSync();
    r.input.values.forEach((v, i) => expect(v).toBeCloseTo(e[i], 5));
    expected.dispose();
    const shown = await inputImage(r);
    expect([shown.width, shown.height]).toEqual([32, 32]);
    model.dispose();
  });
});

describe('bad input', () => {
  it('gives a specific error for each, and the next good request still succeeds', async () => {
    const subject = rgbSubject();
    const bad = await badImages();
    const good = await readFile(files['png-rgb.png']);
    const first = await inspectImage(subject, good);
    const before = tf.memory().numTensors;
    const expected: Record<string, [string, RegExp]> = {
      empty: ['empty-file', /empty/],
      text: ['not-an-image', /not a recognised image/],
      truncated: ['corrupt-image', /corrupt or truncated/],
      huge: ['too-many-pixels', /30000x30000/],
    };
    for (const [name, bytes] of Object.entries(bad)) {
      const err = await inspectImage(subject, bytes, { name }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(ImageDecodeError);
      expect((err as ImageDecodeError).code).toBe(expected[name][0]);
      expect((err as Error).message).toMatch(expected[name][1]);
      expect((err as Error).message).toContain(name);
      const again = await inspectImage(subject, good);
      expect(again.predictions).toEqual(first.predictions);
    }
    await expect(inspectImage(subject, path.join(dir, 'no-such.png'))).rejects.toThrow(/cannot read/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('memory', () => {
  it('holds no more tensors after 100 inspections than after the first', async () => {
    const subject = rgbSubject();
    const image = await readFile(files['png-rgb.png']);
    await inspectImage(subject, image, { saliency: true, gradCam: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) await inspectImage(subject, image, { saliency: i % 10 === 0, gradCam: i % 10 === 5 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
