// The attribute request as the host calls it (cpu backend): every method's map at the input's size with
// its deletion and insertion curves, and Integrated Gradients from a black image prepared as the model
// prepares images (here mean-pixel preprocessing, where black is not zero).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec, saveModel } from '../../src-main/engine/models';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { integratedGradients } from '../../src-main/engine/inspect/attribution/integrated-gradients';
import { ATTRIBUTION_METHOD_IDS } from '../../src-main/contract/attribution';
import { call, expectCode, failure } from './handlers-support';

let scratch: string;
let engine: Engine;
let modelDir: string;
let digit: Uint8Array<ArrayBuffer>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-handlers-attr-'));
  engine = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu' });
  const model = buildModel(getModelSpec('lenet5', { activation: 'relu' }), { seed: 2 });
  model.setUserDefinedMetadata({ preprocess: { version: 1, kind: 'mean-pixel', shape: [28, 28, 1], mean: [100], scale: 1 / 255, fittedOn: null } });
  modelDir = path.join(scratch, 'model');
  await saveModel(model, modelDir);
  model.dispose();
  const pixels = Buffer.alloc(28 * 28);
  for (let y = 5; y < 23; y++) for (let x = 12; x < 16; x++) pixels[y * 28 + x] = 220;
  digit = new Uint8Array(await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer());
});

afterAll(async () => {
  await engine.shutdown();
  await rm(scratch, { recursive: true, force: true });
});

describe('the attribute request', () => {
  it('gives every method’s map at the input’s size, with its curves for that image', async () => {
    for (const method of ATTRIBUTION_METHOD_IDS) {
      const r = await call(engine.handlers, 'attribute', { image: { kind: 'bytes', data: digit.slice() }, model: { kind: 'file', path: modelDir }, method });
      expect([r.method, r.map.shape, r.stepSize, r.deletion.xs.length, r.layer]).toEqual([method, [28, 28], 16, 50, method.includes('cam') ? 'conv2' : null]);
      for (const auc of [r.deletion.auc, r.insertion.auc]) expect(auc).toBeGreaterThan(0);
    }
    const pooled = await call(engine.handlers, 'attribute', { image: { kind: 'bytes', data: digit.slice() }, model: { kind: 'file', path: modelDir }, method: 'gradcam++', layer: 'pool1', classIndex: 3 });
    expect([pooled.layer, pooled.classIndex]).toEqual(['pool1', 3]);
    expectCode(await failure(engine.handlers, 'attribute', { image: { kind: 'bytes', data: digit.slice() }, model: { kind: 'file', path: modelDir }, method: 'scorecam', layer: 'fc1' }), 'user-error', 'bad-layer');
  });

  it('integrates gradients from the black image as the model sees it, not from zeros', async () => {
    const r = await call(engine.handlers, 'attribute', { image: { kind: 'bytes', data: digit.slice() }, model: { kind: 'file', path: modelDir }, method: 'integrated-gradients' });
    const m = await resolveModel(modelDir);
    const { x } = await m.prepare.prepare(Buffer.from(digit));
    const black = tf.fill(x.shape, -100 / 255) as tf.Tensor4D; // (0 - mean) x scale
    const fromBlack = await integratedGradients(m.model, x, { baseline: black });
    const fromZero = await integratedGradients(m.model, x);
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    expect(diff(r.map.data, fromBlack.values)).toBeLessThan(1e-6);
    expect(diff(r.map.data, fromZero.values)).toBeGreaterThan(1e-3);
    tf.dispose([x, black]);
    m.model.dispose();
  });
});
