// An .onnx file opens directly where a model is expected (docs/IMPORT.md): `convscope inspect --model x.onnx`
// imports it on the fly into the import cache, keyed by the file's content (and re-imports when its external
// data changes); the engine's openModel (the app's and the web host's path) opens it the same way.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src-main/engine/tf';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { call } from '../engine/handlers-support';
import { runCliInProcess } from '../cli/run-cli';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
let scratch: string;
let cache: string;
let image: string;
let engine: Engine;
const savedCacheHome = process.env.XDG_CACHE_HOME;

beforeAll(async () => {
  await tf.setBackend('cpu');
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-open-file-'));
  process.env.XDG_CACHE_HOME = path.join(scratch, 'cache-home');
  cache = path.join(scratch, 'cache-home', 'convscope', 'imports');
  image = path.join(scratch, 'ramp.png');
  const raw = Buffer.from(Array.from({ length: 40 * 30 * 3 }, (_, i) => (i * 7) % 256));
  await writeFile(image, await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer());
  engine = createEngine({ runsDir: path.join(scratch, 'runs'), backend: 'cpu' });
});

afterAll(async () => {
  await engine.shutdown();
  if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCacheHome;
  await rm(scratch, { recursive: true, force: true });
});

async function inspectJson(model: string) {
  const r = await runCliInProcess(['inspect', '--model', model, '--image', image, '--json', '--backend', 'cpu']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { input: { width: number; height: number; channels: number }; predictions: { index: number; prob: number }[] };
}

describe('convscope inspect --model FILE.onnx', () => {
  it('imports the file into the cache once, and inspects it as an imported folder would', async () => {
    const file = path.join(FIXTURES, 'mobilenet-relu6.onnx');
    const first = await inspectJson(file);
    expect(first.input).toEqual({ width: 32, height: 32, channels: 3 });
    const entries = (await readdir(cache)).filter((e) => !e.includes('.tmp-'));
    expect(entries).toHaveLength(1);
    const written = (await stat(path.join(cache, entries[0], 'model.json'))).mtimeMs;

    const second = await inspectJson(file);
    expect(second).toEqual(first);
    expect((await stat(path.join(cache, entries[0], 'model.json'))).mtimeMs).toBe(written); // reused, not rewritten

    // The same predictions as `convscope import` then inspecting the folder.
    const out = path.join(scratch, 'imported-mobilenet');
    expect((await runCliInProcess(['import', file, '--out', out])).code).toBe(0);
    expect(await inspectJson(out)).toEqual(first);
  });

  it('prints where the model came from and its import notes', async () => {
    const r = await runCliInProcess(['inspect', '--model', path.join(FIXTURES, 'mobilenet-relu6.onnx'), '--image', image, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model: .*mobilenet-relu6\.onnx, imported into .*convscope\/imports\//m);
    expect(r.stdout).toMatch(/note: the preprocessing 'torchvision-imagenet' is a guess/);
  });

  it('re-imports when the external data beside the file changes', async () => {
    const dir = await mkdtemp(path.join(scratch, 'external-'));
    const file = path.join(dir, 'external-data.onnx');
    await copyFile(path.join(FIXTURES, 'external-data.onnx'), file);
    await copyFile(path.join(FIXTURES, 'external-data.onnx.data'), path.join(dir, 'external-data.onnx.data'));
    const before = await inspectJson(file);
    const size = (await stat(path.join(dir, 'external-data.onnx.data'))).size;
    await writeFile(path.join(dir, 'external-data.onnx.data'), Buffer.alloc(size)); // every weight 0: uniform outputs
    const after = await inspectJson(file);
    expect(after.predictions[0].prob).toBeCloseTo(1 / 4, 6);
    expect(before.predictions[0].prob).not.toBeCloseTo(1 / 4, 3);
  });

  it('--out on a model with dilated convolutions writes its images without saliency and Grad-CAM, and says why', async () => {
    const out = path.join(scratch, 'dilated-out');
    const r = await runCliInProcess(['inspect', '--model', path.join(FIXTURES, 'dilated.onnx'), '--image', image, '--out', out, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: saliency and Grad-CAM need gradients, which TensorFlow\.js does not compute through dilated convolutions/);
    expect((await readdir(out)).sort()).toEqual(['activations', 'input.png', 'kernels']);
  });

  it('a missing .onnx file is one line naming it, not a zoo lookup', async () => {
    const r = await runCliInProcess(['inspect', '--model', 'absent.onnx', '--image', image]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('convscope inspect: no file or folder at absent.onnx');
  });
});

describe("the engine's openModel on an .onnx file (the app's and the web host's path)", () => {
  it('opens a file with external data and inspects with the same outputs as a direct import', async () => {
    const file = path.join(FIXTURES, 'external-data.onnx');
    const opened = await call(engine.handlers, 'openModel', { path: file });
    expect(opened.format).toBe('ONNX');
    expect(opened.input).toEqual([16, 16, 3]);
    const result = await call(engine.handlers, 'inspect', { image: { kind: 'path', path: image }, model: opened.ref });
    const direct = await inspectJson(file);
    expect(result.predictions.map((p) => p.index)).toEqual(direct.predictions.map((p) => p.index));
    result.predictions.forEach((p, i) => expect(p.prob).toBeCloseTo(direct.predictions[i].prob, 6));
  });
});
