// Hostile or impossible tfjs layers-model JSON files, for every reader (model folders, inspection, import,
// the web host's openModel): weight shards outside the model's folder, unknown layer classes, builds that
// fail half-way (nothing leaks), and models too big for the memory limit (refused before allocating).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec, loadModel, saveModel } from '../../src-main/engine/models';
import { MODEL_MEMORY_LIMIT_ENV, modelMemoryLimit } from '../../src-main/engine/models/memory-limit';
import { importModel } from '../../src-main/engine/import';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { failure } from './handlers-support';

let scratch: string;
let lenet: string;
let engine: Engine;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-hostile-json-'));
  lenet = path.join(scratch, 'lenet');
  const model = buildModel(getModelSpec('lenet5'), { seed: 1 });
  await saveModel(model, lenet);
  model.dispose();
  engine = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu' });
  // Deterministic limit for the size checks (the default is this machine's free memory).
  process.env[MODEL_MEMORY_LIMIT_ENV] = '2GiB';
});

afterAll(async () => {
  await engine.shutdown();
  await rm(scratch, { recursive: true, force: true });
});

type Json = { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }; weightsManifest: { paths: string[] }[] };

/** A copy of the saved LeNet-5 folder under `name` with its model.json changed by `edit`. */
async function variant(name: string, edit: (json: Json) => void): Promise<string> {
  const dir = path.join(scratch, name, 'model');
  await mkdir(dir, { recursive: true });
  const json = JSON.parse(await readFile(path.join(lenet, 'model.json'), 'utf8')) as Json;
  edit(json);
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  await copyFile(path.join(lenet, 'weights.bin'), path.join(dir, 'weights.bin'));
  return dir;
}

/** Every reader of a model.json refuses it with one line matching `pattern`, and nothing leaks. */
async function everyReaderRefuses(dir: string, pattern: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  const jsonPath = path.join(dir, 'model.json');
  for (const read of [() => loadModel(dir), () => resolveModel(jsonPath), () => importModel(jsonPath)]) {
    const err = await read().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(pattern);
    expect(err?.message).not.toContain('\n');
  }
  const reply = await failure(engine.handlers, 'openModel', { path: jsonPath });
  expect(reply.code).toBe('user-error');
  expect(reply.message).toMatch(pattern);
  expect(tf.memory().numTensors).toBe(before);
}

describe('weight shards outside the model folder', () => {
  it.each([
    ['a relative path up', '../../secret.bin'],
    ['an absolute path', 'ABSOLUTE'],
    ['a symlink out', 'link.bin'],
    ['a URL', 'file:///etc/passwd'],
  ])('are refused for every reader: %s', async (_what, shard) => {
    // The outside file is exactly as long as the weights, so only the path check can refuse it.
    const secret = path.join(scratch, 'secret.bin');
    await copyFile(path.join(lenet, 'weights.bin'), secret);
    const name = `shard-${_what.replace(/\W+/g, '-')}`;
    const dir = await variant(name, (json) => (json.weightsManifest[0].paths = [shard === 'ABSOLUTE' ? secret : shard]));
    if (shard === 'link.bin') await symlink(secret, path.join(dir, 'link.bin'));
    await everyReaderRefuses(dir, /names a weights file .* must lie in the model's own folder/);
  });

  it('still reads shards in a subfolder of the model folder', async () => {
    const dir = await variant('shard-subfolder', (json) => (json.weightsManifest[0].paths = ['shards/w.bin']));
    await mkdir(path.join(dir, 'shards'));
    await copyFile(path.join(lenet, 'weights.bin'), path.join(dir, 'shards', 'w.bin'));
    const model = await loadModel(dir);
    expect(model.countParams()).toBe(44_426);
    model.dispose();
  });
});

describe('layer classes and failed builds', () => {
  it('names an unknown layer class and the classes ConvScope reads, in one line', async () => {
    const dir = await variant('unknown-class', (json) => (json.modelTopology.config.layers[6].class_name = 'MyFancyDense'));
    await everyReaderRefuses(dir, /uses the layer class MyFancyDense, which ConvScope cannot read \(it reads .*Conv2D.*GroupedConv2D.*LocalResponseNormalization/);
  });

  it('frees the layers built before a build fails (50 opens, no tensor left)', async () => {
    // fc2 becomes a Conv2D fed by a flat tensor: conv1..fc1 are built (weights allocated) before it fails.
    const dir = await variant('fails-half-way', (json) => {
      const layers = json.modelTopology.config.layers;
      layers[7] = { ...layers[7], class_name: 'Conv2D', config: { name: layers[7].config.name, filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true } };
    });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      const reply = await failure(engine.handlers, 'openModel', { path: path.join(dir, 'model.json') });
      expect(reply.message).toMatch(/cannot rebuild .*: Input 0 is incompatible with layer fc2/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('models too big for the memory limit', () => {
  it('reads the limit setting, refusing a malformed one', () => {
    expect(modelMemoryLimit({ [MODEL_MEMORY_LIMIT_ENV]: '512MiB' }).bytes).toBe(512 * 2 ** 20);
    expect(modelMemoryLimit({ [MODEL_MEMORY_LIMIT_ENV]: '1e9' }).bytes).toBe(1e9);
    expect(() => modelMemoryLimit({ [MODEL_MEMORY_LIMIT_ENV]: 'lots' })).toThrow(/is not a size/);
    expect(modelMemoryLimit({}).source).toMatch(/free memory/);
  });

  it('refuses a model.json with a 50000x50000 input before allocating, for every reader', async () => {
    const dir = await variant('huge-input', (json) => {
      const input = json.modelTopology.config.layers[0].config;
      input.batch_input_shape = [null, 50000, 50000, 1];
      // Only the convolutions and pools: their weights do not depend on the input size.
      json.modelTopology.config.layers.splice(5);
      (json.modelTopology.config as unknown as { output_layers: unknown[] }).output_layers = [[json.modelTopology.config.layers[4].config.name, 0, 0]];
      const manifest = json.weightsManifest[0] as unknown as { weights: { name: string; shape: number[] }[] };
      manifest.weights = manifest.weights.filter((w) => w.name.startsWith('conv'));
    });
    const jsonPath = path.join(dir, 'model.json');
    const weights = (JSON.parse(await readFile(jsonPath, 'utf8')) as { weightsManifest: { weights: { shape: number[] }[] }[] }).weightsManifest[0].weights;
    const bytes = weights.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
    await writeFile(path.join(dir, 'weights.bin'), (await readFile(path.join(lenet, 'weights.bin'))).subarray(0, bytes));
    await everyReaderRefuses(dir, /needs about \d+(\.\d)? (GiB|TiB) \(weights .*, activations for one image .*\), more than the limit of 2\.0 GiB \(CONVSCOPE_MODEL_MEMORY_LIMIT=2GiB\)/);
  });

  it.each([
    ['alexnet', { input: '4096x4096x1' }],
    ['alexnet', { width: 16 }],
    ['lenet5', { input: '4096x4096x3' }],
  ] as const)('refuses zoo model %s %o before building, in the engine and the web host', async (id, overrides) => {
    const before = tf.memory().numTensors;
    expect(() => buildModel(getModelSpec(id, overrides), { seed: 0 })).toThrow(/needs about .* more than the limit of 2\.0 GiB/);
    const reply = await failure(engine.handlers, 'kernels', { model: { kind: 'zoo', id, overrides } });
    expect(reply.message).toMatch(/needs about .* more than the limit/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
