// A dataset fed to a model of another input size: attribution-eval's inputs are the dataset's images resized
// to the model's input as PyTorch's F.interpolate(bilinear, align_corners=False) does (what a model trained
// on upsampled images saw), grey repeated over RGB, then the model's per-channel normalisation.
import { describe, it, expect } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { datasetInputs } from '../../src-main/engine/inspect/attribution/dataset-inputs';
import { openDataset } from '../../src-main/engine/data/registry';
import type { Preprocessor } from '../../src-main/engine/data/preprocess';

const SIDE = 64;
// torchvision's Normalize(0.2860, 0.3530) on pixels / 255, as the importer's --mean/--std gives it for datasets.
const MEAN = 0.286 * 255;
const SCALE = 1 / (255 * 0.353);
const preprocessor: Preprocessor = { version: 1, kind: 'mean-pixel', shape: [SIDE, SIDE, 3], mean: [MEAN, MEAN, MEAN], scale: SCALE, fittedOn: null };
const model = { source: { kind: 'zoo' as const, id: 'test', overrides: {} }, input: [SIDE, SIDE, 3] as [number, number, number], preprocessor };

/** PyTorch's bilinear upsampling with align_corners=False, one output pixel of a 28x28 grey image. */
function torchBilinear(image: ArrayLike<number>, size: number, y: number, x: number): number {
  const src = (o: number) => Math.max(0, ((o + 0.5) * size) / SIDE - 0.5);
  const [fy, fx] = [src(y), src(x)];
  const [y0, x0] = [Math.floor(fy), Math.floor(fx)];
  const [y1, x1] = [Math.min(y0 + 1, size - 1), Math.min(x0 + 1, size - 1)];
  const [ty, tx] = [fy - y0, fx - x0];
  const at = (r: number, c: number) => image[r * size + c];
  return (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x1)) + ty * ((1 - tx) * at(y1, x0) + tx * at(y1, x1));
}

describe('attribution dataset inputs at another input size', () => {
  it('resizes 28x28 MNIST to a 64x64x3 model input as PyTorch upsamples, then normalises', async () => {
    const before = tf.memory().numTensors;
    const inputs = await datasetInputs(model, 'mnist');
    const { x, labels } = await inputs.batch([0, 7]);
    expect(x.shape).toEqual([2, SIDE, SIDE, 3]);
    const got = await x.array();
    const raw = await (await openDataset('mnist')).test!.read([0, 7]);
    for (let n = 0; n < 2; n++) {
      const image = raw.images.subarray(n * 784, (n + 1) * 784);
      for (const [y, xx] of [[0, 0], [10, 33], [31, 31], [40, 17], [63, 63], [22, 50]]) {
        const expected = (torchBilinear(image, 28, y, xx) - MEAN) * SCALE;
        for (let c = 0; c < 3; c++) expect(got[n][y][xx][c]).toBeCloseTo(expected, 4);
      }
    }
    expect(Array.from(await labels.data())).toEqual(Array.from(raw.labels));
    const black = inputs.black();
    expect(black.shape).toEqual([1, SIDE, SIDE, 3]);
    const blackValues = Array.from(await black.data());
    expect(Math.max(...blackValues)).toBeCloseTo(-MEAN * SCALE, 5);
    expect(Math.min(...blackValues)).toBeCloseTo(-MEAN * SCALE, 5);
    tf.dispose([x, labels, black]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a normalisation whose means do not fit the model input', async () => {
    const wrong = { ...model, preprocessor: { ...preprocessor, mean: [MEAN] } };
    const inputs = await datasetInputs(wrong, 'mnist');
    await expect(inputs.batch([0])).rejects.toThrow(/1 means\) does not fit a 64x64x3 input/);
  });
});
