// Model folders: save, reload in a fresh process with identical outputs, and clear errors for broken folders.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { tf } from '../../src-main/engine/tf';
import { ModelFileError, buildModel, countParams, getModelSpec, loadModel, saveModel, summarizeModel } from '../../src-main/engine/models';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
let scratch: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-models-io-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A small AlexNet with every custom piece: GroupedConv2D, LRN, BatchNormalization (non-trainable stats), Dropout. */
function smallAlexnet() {
  const spec = getModelSpec('alexnet', { width: 0.125, input: '67x67x3', classes: 5, batchNorm: true });
  const model = buildModel(spec, { seed: 11 });
  // Move every weight (BN moving statistics included) off its initial value, as training would.
  const perturbed = model.getWeights().map((w, i) => tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.05, 'float32', 100 + i))));
  model.setWeights(perturbed);
  tf.dispose(perturbed);
  return { spec, model };
}

const CHILD = `
const { tf } = await import(${JSON.stringify(path.join(repoRoot, 'src-main/engine/tf.ts'))});
const { loadModel, summarizeModel } = await import(${JSON.stringify(path.join(repoRoot, 'src-main/engine/models/index.ts'))});
const { readFileSync } = await import('node:fs');
await tf.setBackend('cpu');
const model = await loadModel(process.env.MODEL_DIR);
const bytes = readFileSync(process.env.INPUT_FILE);
const x = tf.tensor(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), JSON.parse(process.env.INPUT_SHAPE));
const y = model.predict(x);
process.stdout.write(JSON.stringify({ output: Array.from(y.dataSync()), summary: summarizeModel(model) }));
`;

describe('saveModel / loadModel', () => {
  it('writes model.json + weights.bin that a fresh process reloads with identical outputs', async () => {
    const { spec, model } = smallAlexnet();
    const dir = path.join(scratch, 'alexnet-small');
    const info = await saveModel(model, dir);

    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']); // no temporary files left
    expect(info.weightBytes).toBe(4 * countParams(spec).total);
    expect((await stat(path.join(dir, 'weights.bin'))).size).toBe(info.weightBytes);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);

    const inputShape = [2, 67, 67, 3];
    const x = tf.randomUniform(inputShape, 0, 1, 'float32', 9);
    const inputFile = path.join(scratch, 'input.bin');
    await writeFile(inputFile, new Uint8Array(x.dataSync().buffer));
    const expected = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    const summary = summarizeModel(model);
    x.dispose();
    model.dispose();

    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: repoRoot,
      env: { ...process.env, MODEL_DIR: dir, INPUT_FILE: inputFile, INPUT_SHAPE: JSON.stringify(inputShape) },
      maxBuffer: 16 * 1024 * 1024,
    });
    const child = JSON.parse(stdout);
    expect(child.output).toHaveLength(2 * 5);
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.01); // not a degenerate uniform softmax
    expect(child.output).toEqual(expected);
    expect(child.summary).toEqual(summary);
    expect(child.summary.layers.map((l: { type: string }) => l.type)).toEqual(
      expect.arrayContaining(['GroupedConv2D', 'LocalResponseNormalization', 'BatchNormalization', 'Dropout']),
    );
  }, 60_000);

  it('keeps user metadata, overwrites an existing folder, and does not leak tensors when loading', async () => {
    const dir = path.join(scratch, 'lenet');
    const first = buildModel(getModelSpec('lenet5'), { seed: 1 });
    await saveModel(first, dir);
    first.dispose();
    const second = buildModel(getModelSpec('lenet5'), { seed: 2 });
    second.setUserDefinedMetadata({ spec: { id: 'lenet5', seed: 2 } });
    await saveModel(second, dir);
    const expected = second.getLayer('conv1').getWeights()[0].dataSync().slice();

    const before = tf.memory().numTensors;
    const loaded = await loadModel(dir);
    expect(loaded.getUserDefinedMetadata()).toEqual({ spec: { id: 'lenet5', seed: 2 } });
    expect(loaded.getLayer('conv1').getWeights()[0].dataSync()).toEqual(expected);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    second.dispose();
  });
});

describe('sharded weights (tensorflowjs_converter writes 4 MB shards)', () => {
  it('loads weights split into uneven shards, with tensors straddling shard ends', async () => {
    const dir = path.join(scratch, 'sharded');
    const model = buildModel(getModelSpec('lenet5'), { seed: 5 });
    await saveModel(model, dir);
    const expected = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    const whole = await readFile(path.join(dir, 'weights.bin'));
    // 1,001 and 70,003 bytes: both cut through a kernel, and the last shard is the odd-sized rest.
    const cuts = [0, 1001, 71_004, whole.byteLength];
    const names = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
    await Promise.all(names.map((n, i) => writeFile(path.join(dir, n), whole.subarray(cuts[i], cuts[i + 1]))));
    await unlink(path.join(dir, 'weights.bin'));
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = names;
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));

    const loaded = await loadModel(dir);
    const got = loaded.getWeights().map((w) => Array.from(w.dataSync()));
    loaded.dispose();
    expect(got.map((g) => g.length)).toEqual(expected.map((e) => e.length));
    got.forEach((g, i) => expect(g).toEqual(expected[i]));
  });
});

describe('loadModel errors', () => {
  async function savedLenet(name: string): Promise<string> {
    const dir = path.join(scratch, name);
    const model = buildModel(getModelSpec('lenet5'), { seed: 0 });
    await saveModel(model, dir);
    model.dispose();
    return dir;
  }

  it('a missing folder', async () => {
    const dir = path.join(scratch, 'nothing-here');
    await expect(loadModel(dir)).rejects.toThrow(ModelFileError);
    await expect(loadModel(dir)).rejects.toThrow(`no model folder at ${dir}`);
  });

  it('a folder without model.json', async () => {
    const dir = await savedLenet('no-json');
    await unlink(path.join(dir, 'model.json'));
    await expect(loadModel(dir)).rejects.toThrow(`${dir} has no model.json`);
  });

  it('a model.json that is not JSON or not a layers model', async () => {
    const dir = await savedLenet('bad-json');
    await writeFile(path.join(dir, 'model.json'), '{"modelTopology": ');
    await expect(loadModel(dir)).rejects.toThrow(/model\.json is not valid JSON/);
    await writeFile(path.join(dir, 'model.json'), '{"hello": 1}');
    await expect(loadModel(dir)).rejects.toThrow(/is not a tfjs layers model/);
  });

  it('a missing weights file', async () => {
    const dir = await savedLenet('no-weights');
    await unlink(path.join(dir, 'weights.bin'));
    await expect(loadModel(dir)).rejects.toThrow(ModelFileError);
    await expect(loadModel(dir)).rejects.toThrow(`model.json in ${dir} needs the weights file weights.bin, which is missing`);
  });

  it('a weights file of the wrong size', async () => {
    const dir = await savedLenet('short-weights');
    await truncate(path.join(dir, 'weights.bin'), 1000);
    await expect(loadModel(dir)).rejects.toThrow(
      `weights file weights.bin in ${dir} has 1000 bytes but model.json describes ${4 * 44_426} bytes (truncated or from another model)`,
    );
  });

  it("another model's weights file", async () => {
    const dir = await savedLenet('swapped-weights');
    const other = buildModel(getModelSpec('lenet5', { width: 2 }), { seed: 0 });
    const otherDir = path.join(scratch, 'wider');
    await saveModel(other, otherDir);
    other.dispose();
    await writeFile(path.join(dir, 'weights.bin'), await readFile(path.join(otherDir, 'weights.bin')));
    await expect(loadModel(dir)).rejects.toThrow(/has \d+ bytes but model\.json describes 177704 bytes/);
  });
});
