// Model references: zoo ids, a real run folder written by the trainer (checkpoint, saved model, stored
// preprocessing, kernel snapshots), and model.json files laid out as tensorflowjs_converter writes Keras models.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, truncate, unlink, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { ModelFileError, UnknownModelError } from '../../src-main/engine/models';
import { defaultConfig, startRun, type TrainConfig } from '../../src-main/engine/train';
import type { Preprocessor } from '../../src-main/engine/data/preprocess';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { inspectImage } from '../../src-main/engine/inspect/inspect';
import { loadKernelSnapshot, openKernelTimeline } from '../../src-main/engine/inspect/kernel-timeline';
import { deadRelus } from '../../src-main/engine/inspect/dead-relu';
import { evaluateModel } from '../../src-main/engine/inspect/evaluate';
import { ModelRefError } from '../../src-main/engine/inspect/errors';
import { bandData, bandSplit } from './train-synthetic';

let scratch: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-inspect-ref-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A 16x16 grey PNG: a bright vertical band at column 3 on a dark background. */
async function bandPng(): Promise<Buffer> {
  const raw = Buffer.alloc(256, 20);
  for (let y = 0; y < 16; y++) raw[y * 16 + 3] = 230;
  return sharp(raw, { raw: { width: 16, height: 16, channels: 1 } }).png().toBuffer();
}

describe('zoo references', () => {
  it('builds a zoo model with overrides, and names what is wrong with a bad reference', async () => {
    const r = await resolveModel('alexnet', { overrides: { width: 0.125, input: '67x67x3', classes: 7 } });
    expect(r.input).toEqual([67, 67, 3]);
    expect(r.model.outputs[0].shape).toEqual([null, 7]);
    expect(r.preprocessor.kind).toBe('scale');
    r.model.dispose();
    await expect(resolveModel('vgg16')).rejects.toThrow(UnknownModelError);
    await expect(resolveModel('./no/such/run')).rejects.toThrow(/no file or folder/);
    await expect(resolveModel('lenet5', { checkpoint: 3 })).rejects.toThrow(ModelRefError);
    await expect(resolveModel(scratch)).rejects.toThrow(/neither a run folder/);
  });
});

describe('a run folder written by the trainer', () => {
  let runDir: string;
  let trainedOutput: Float32Array;
  let step: number;
  const probeX = () => bandSplit(4, [16, 16, 1], 10, 5_000_000).batch([0, 1, 2, 3]);
  // Stored preprocessing: pixels minus 100, divided by 255.
  const preprocessor: Preprocessor = { version: 1, kind: 'mean-pixel', shape: [16, 16, 1], mean: [100], scale: 1 / 255, fittedOn: { dataset: 'mnist', examples: 128 } };

  beforeAll(async () => {
    runDir = path.join(scratch, 'run');
    const config: TrainConfig = {
      ...defaultConfig('lenet5', 'mnist'),
      model: { id: 'lenet5', overrides: { input: '16x16x1', width: 0.5, activation: 'relu' } },
      backend: 'cpu',
      batchSize: 16,
      snapshotEvery: 4,
      statsEvery: 0,
      probeSize: 16,
    };
    const trainer = await startRun(config, { runDir, data: { data: bandData(128, 32), preprocess: preprocessor, warnings: [] } });
    const result = await trainer.run();
    expect(result.state).toBe('finished');
    step = trainer.currentPosition.globalStep;
    const { x } = await probeX();
    trainedOutput = (trainer.model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    x.dispose();
    trainer.dispose();
  });

  it('loads the latest checkpoint with the run’s class names and stored preprocessing', async () => {
    const r = await resolveModel(runDir);
    expect(r.source).toMatchObject({ kind: 'run', from: 'checkpoint', step });
    expect(r.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(r.preprocessor).toEqual(preprocessor);
    const { x } = await probeX();
    const out = (r.model.predict(x) as tf.Tensor).dataSync();
    out.forEach((v, i) => expect(v).toBeCloseTo(trainedOutput[i], 6));
    const inspection = await inspectImage(r, await bandPng());
    inspection.input.values.forEach((v, i) => expect(v).toBeCloseTo((inspection.input.pixels[i] - 100) / 255, 6));
    expect(inspection.input.values[3]).toBeCloseTo((230 - 100) / 255, 6);
    expect(inspection.predictions[0].label).toBe(String(inspection.predictions[0].index));
    tf.dispose(x);
    r.model.dispose();
  });

  it('takes --checkpoint for the step the run kept, and says which step it has otherwise', async () => {
    const r = await resolveModel(runDir, { checkpoint: step });
    r.model.dispose();
    await expect(resolveModel(runDir, { checkpoint: step + 1 })).rejects.toThrow(new RegExp(`keeps checkpoints at steps ${step} and 0, and its initial weights`));
    await expect(resolveModel(runDir, { overrides: { width: 1 } })).rejects.toThrow(/--set applies to zoo models/);
  });

  it('gives step 0 as the run’s initial weights: its first kernel snapshot, exactly', async () => {
    const r = await resolveModel(runDir, { checkpoint: 0 });
    expect(r.source).toMatchObject({ kind: 'run', from: 'initial', step: 0 });
    const timeline = openKernelTimeline(runDir);
    expect(timeline.snapshots[0].step).toBe(0);
    const first = loadKernelSnapshot(timeline, 0, 'conv1')[0];
    expect(Array.from(r.model.getLayer('conv1').getWeights()[0].dataSync())).toEqual(Array.from(first.values));
    // And it is not the trained network.
    const { x } = await probeX();
    const out = (r.model.predict(x) as tf.Tensor).dataSync();
    expect(Math.max(...Array.from(out, (v, i) => Math.abs(v - trainedOutput[i])))).toBeGreaterThan(1e-3);
    tf.dispose(x);
    r.model.dispose();
  });

  it('falls back to the saved model without a checkpoint', async () => {
    const copy = path.join(scratch, 'run-no-checkpoint');
    await mkdir(path.join(copy, 'model'), { recursive: true });
    for (const f of ['config.json', 'spec.json', 'preprocess.json']) await copyFile(path.join(runDir, f), path.join(copy, f));
    for (const f of ['model.json', 'weights.bin']) await copyFile(path.join(runDir, 'model', f), path.join(copy, 'model', f));
    const r = await resolveModel(copy);
    expect(r.source).toMatchObject({ kind: 'run', from: 'model' });
    const { x } = await probeX();
    const out = (r.model.predict(x) as tf.Tensor).dataSync();
    out.forEach((v, i) => expect(v).toBeCloseTo(trainedOutput[i], 6));
    tf.dispose(x);
    r.model.dispose();
    await unlink(path.join(copy, 'model', 'weights.bin'));
    await expect(resolveModel(copy)).rejects.toThrow(ModelFileError);
  });

  it('reads the run’s kernel snapshots and measures dead ReLUs and accuracy of its model', async () => {
    const t = openKernelTimeline(runDir);
    expect(t.layers).toEqual(['conv1', 'conv2']);
    expect(t.snapshots[0].step).toBe(0);
    expect(t.snapshots.at(-1)!.step).toBe(step);
    const r = await resolveModel(runDir);
    const split = bandSplit(40, [16, 16, 1], 10, 1_000_000);
    const dead = await deadRelus(r.model, split, { probeSize: 40, batchSize: 16 });
    expect(dead.probeSize).toBe(40);
    expect(dead.layers.map((l) => l.layer)).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);
    for (const l of dead.layers) for (const f of l.deadFraction) expect(f).toBeGreaterThanOrEqual(0);
    const e = await evaluateModel(r.model, split, { batchSize: 16 });
    expect(e.examples).toBe(40);
    expect(e.top5Error).not.toBeNull();
    r.model.dispose();
  });
});

/** A Keras 2 Sequential as tensorflowjs_converter writes it: model_config wrapper, snake_case configs, two shards. */
function kerasModelJson(classNames?: string[]) {
  const init = { class_name: 'GlorotUniform', config: { seed: null } };
  const zeros = { class_name: 'Zeros', config: {} };
  const common = { trainable: true, dtype: 'float32' };
  return {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false, name: 'conv2d_input' } },
            {
              class_name: 'Conv2D',
              config: { name: 'conv2d', ...common, filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true, kernel_initializer: init, bias_initializer: zeros, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null },
            },
            { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', ...common, pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' } },
            { class_name: 'Flatten', config: { name: 'flatten', ...common, data_format: 'channels_last' } },
            {
              class_name: 'Dense',
              config: { name: 'dense', ...common, units: 3, activation: 'softmax', use_bias: true, kernel_initializer: init, bias_initializer: zeros, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null },
            },
          ],
        },
      },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
        weights: [
          { name: 'conv2d/kernel', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'conv2d/bias', shape: [4], dtype: 'float32' },
          { name: 'dense/kernel', shape: [36, 3], dtype: 'float32' },
          { name: 'dense/bias', shape: [3], dtype: 'float32' },
        ],
      },
    ],
    ...(classNames ? { userDefinedMetadata: { classNames } } : {}),
  };
}

function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.6;
  });
}

describe('model.json from tensorflowjs_converter', () => {
  const kernel = values(108, 1);
  const bias = values(4, 2);
  const dense = values(108, 3);
  const denseBias = values(3, 4);
  let dir: string;

  beforeAll(async () => {
    dir = path.join(scratch, 'keras');
    await mkdir(dir, { recursive: true });
    const all = Buffer.concat([kernel, bias, dense, denseBias].map((a) => Buffer.from(a.buffer)));
    // Fixed-size shards split in the middle of a weight, the last one shorter, as the converter writes them.
    await writeFile(path.join(dir, 'group1-shard1of2.bin'), all.subarray(0, 601));
    await writeFile(path.join(dir, 'group1-shard2of2.bin'), all.subarray(601));
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(kerasModelJson(['red', 'green', 'blue'])));
  });

  /** The same network computed with tfjs ops from the same arrays. */
  function expected(x: tf.Tensor4D): Float32Array {
    return tf.tidy(() => {
      const c: tf.Tensor4D = tf.relu(tf.add(tf.conv2d(x, tf.tensor4d(kernel, [3, 3, 3, 4]), 1, 'valid'), bias));
      const p = tf.maxPool(c, 2, 2, 'valid');
      return tf.softmax(tf.add(tf.matMul(tf.reshape(p, [1, 36]), tf.tensor2d(dense, [36, 3])), denseBias)).dataSync() as Float32Array;
    });
  }

  it('loads from the model.json path and inspects like the network computed by hand', async () => {
    const r = await resolveModel(path.join(dir, 'model.json'));
    expect(r.source).toEqual({ kind: 'model-folder', dir });
    expect(r.input).toEqual([8, 8, 3]);
    expect(r.classNames).toEqual(['red', 'green', 'blue']);
    const png = await sharp(Buffer.from(Array.from({ length: 192 }, (_, i) => (i * 37) % 256)), { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer();
    const inspection = await inspectImage(r, png, { topK: 3, gradCam: true });
    const x = tf.tensor4d(inspection.input.values, [1, 8, 8, 3]);
    const want = expected(x);
    x.dispose();
    for (const p of inspection.predictions) expect(p.prob).toBeCloseTo(want[p.index], 5);
    expect(inspection.predictions.map((p) => p.label)).toEqual([...inspection.predictions].map((p) => ['red', 'green', 'blue'][p.index]));
    const conv = inspection.layers.find((l) => l.name === 'conv2d')!;
    expect([conv.className, conv.activation]).toEqual(['Conv2D', 'relu']);
    expect(conv.deadChannels).toBeInstanceOf(Array);
    expect(inspection.gradCam?.layer).toBe('conv2d');
    r.model.dispose();
  });

  it('names a missing shard and a shard of the wrong size, and loads fine again afterwards', async () => {
    const broken = path.join(scratch, 'keras-broken');
    await mkdir(broken, { recursive: true });
    for (const f of ['model.json', 'group1-shard1of2.bin', 'group1-shard2of2.bin']) await copyFile(path.join(dir, f), path.join(broken, f));
    await unlink(path.join(broken, 'group1-shard2of2.bin'));
    await expect(resolveModel(broken)).rejects.toThrow(/group1-shard2of2\.bin, which is missing/);

    await copyFile(path.join(dir, 'group1-shard2of2.bin'), path.join(broken, 'group1-shard2of2.bin'));
    await truncate(path.join(broken, 'group1-shard2of2.bin'), 100);
    const err = await resolveModel(path.join(broken, 'model.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(/has 701 bytes but model\.json describes 892 bytes/);

    // A shard from a bigger model.
    await writeFile(path.join(broken, 'group1-shard2of2.bin'), Buffer.alloc(4000));
    await expect(resolveModel(broken)).rejects.toThrow(/describes 892 bytes/);

    const ok = await resolveModel(dir);
    ok.model.dispose();
    await writeFile(path.join(broken, 'model.json'), '{"modelTopology": ');
    await expect(resolveModel(broken)).rejects.toThrow(/not valid JSON/);
    await writeFile(path.join(broken, 'other.json'), await readFile(path.join(dir, 'model.json')));
    await expect(resolveModel(path.join(broken, 'other.json'))).rejects.toThrow(/expected a model\.json/);
  });
});
