// The exported model.py: the same parameter count as ConvScope's summary, and on the same weights and input
// the same outputs as the engine's model (1e-5); paddings as Keras computes them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec, saveModel, summarizeModel, type ModelSpec } from '../../src-main/engine/models';
import { countParams } from '../../src-main/engine/models/spec';
import { chainLayers, forward } from '../../src-main/engine/train/forward';
import { modelCode, sides } from '../../src-main/engine/export/model-code';
import { importModel } from '../../src-main/engine/import';
import { resourcesDir } from '../../src-main/engine/paths';
import { NO_TORCH, python } from './python';

const TEMPLATES = path.join(resourcesDir(), 'export', 'pytorch');
let scratch: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-export-model-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** model.py (and runfolder.py, for its weight conversion) for `spec` in a fresh folder. */
async function writePackage(spec: ModelSpec, name: string): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.py'), modelCode(await readFile(path.join(TEMPLATES, 'model.py'), 'utf8'), spec));
  for (const file of ['runfolder.py', 'export_onnx.py']) await copyFile(path.join(TEMPLATES, file), path.join(dir, file));
  return dir;
}

describe('paddings', () => {
  it("puts Keras' odd 'same' padding at the bottom and right", () => {
    // 227 at stride 4 with an 11x11 kernel: ceil(227/4) = 57 outputs need (57-1)*4+11-227 = 8 zeros, 4 + 4.
    expect(sides([227, 227, 3], 11, 4, 'same')).toEqual([4, 4, 4, 4]);
    // 28 at stride 2, kernel 3: 14 outputs need 13*2+3-28 = 1 zero, at the bottom and right.
    expect(sides([28, 28, 1], 3, 2, 'same')).toEqual([0, 1, 0, 1]);
    expect(sides([13, 13, 8], 3, 1, 2)).toEqual([2, 2, 2, 2]);
    expect(sides([13, 13, 8], 3, 1, 'valid')).toEqual([0, 0, 0, 0]);
  });
});

describe.skipIf(NO_TORCH !== null)('exported model.py (PyTorch)', () => {
  const counts: [string, string, Record<string, string>][] = [
    ['LeNet-5', 'lenet5', {}],
    ['AlexNet (grouped, LRN)', 'alexnet', {}],
    ['AlexNet (all-to-all)', 'alexnet', { grouped: 'false' }],
    ['AlexNet as in the blog (batch norm)', 'alexnet-blog', {}],
    ['AlexNet as torchvision ships it', 'alexnet-torchvision', {}],
  ];
  it('counts the parameters convscope summary counts', { timeout: 120_000 }, async () => {
    for (const [title, id, overrides] of counts) {
      const spec = getModelSpec(id, overrides);
      const dir = await writePackage(spec, `count-${id}-${Object.keys(overrides).join('-')}`);
      const { stdout } = await python(['-c', `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); from model import Net, parameter_count, PARAMETERS; print(parameter_count(Net()), PARAMETERS)`]);
      const [counted, printed] = stdout.trim().split(' ').map(Number);
      expect(counted, title).toBe(countParams(spec).total);
      expect(printed, title).toBe(countParams(spec).total);
    }
    // countParams is what summary reports; checked on the built model where it is cheap.
    const small = getModelSpec('alexnet', { input: '67x67x3', width: '0.25' });
    const built = buildModel(small, { seed: 0 });
    expect(summarizeModel(built).totalParams).toBe(countParams(small).total);
    built.dispose();
    expect(countParams(getModelSpec('alexnet')).total).toBe(60_965_224);
  });

  const outputs: [string, string, Record<string, string>][] = [
    ['LeNet-5', 'lenet5', {}],
    ['small AlexNet (grouped, LRN)', 'alexnet', { input: '67x67x3', width: '0.25', classes: '10' }],
    ['small AlexNet (all-to-all, ReLU fc)', 'alexnet', { input: '67x67x3', width: '0.25', grouped: 'false', classes: '10' }],
    ['small blog AlexNet (batch norm, tanh fc)', 'alexnet-blog', { input: '67x67x3', width: '0.25' }],
  ];
  for (const [title, id, overrides] of outputs) {
    it(`${title}: the same outputs as the engine on the same weights (1e-5)`, async () => {
      const spec = getModelSpec(id, overrides);
      const dir = await writePackage(spec, `outputs-${id}-${Object.keys(overrides).length}-${overrides.grouped ?? ''}`);
      const model = buildModel(spec, { seed: 7 });
      // Batch norm's statistics and scales away from 1 and 0, so their mapping matters.
      for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
        const [gamma, beta, mean, variance] = layer.getWeights();
        layer.setWeights([
          tf.add(gamma, tf.randomUniform(gamma.shape, -0.3, 0.3, 'float32', 1)),
          tf.randomUniform(beta.shape, -0.2, 0.2, 'float32', 2),
          tf.randomUniform(mean.shape, -0.1, 0.1, 'float32', 3),
          tf.randomUniform(variance.shape, 0.5, 2, 'float32', 4),
        ]);
      }
      await saveModel(model, path.join(dir, 'weights'));
      // Inputs 0-255 (preprocessing 'raw'): large enough activations that the classes' scores differ.
      const x = tf.randomUniform([3, ...spec.input], 0, 255, 'float32', 11);
      const expected = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
      const logits = tf.tidy(() => forward(chainLayers(model), x, { training: false, logits: true }));
      const expectedLogits = (await logits.data()) as Float32Array;
      await writeFile(path.join(dir, 'x.f32'), new Uint8Array((await x.data()).buffer));
      const script = [
        'import sys, json, numpy as np, torch',
        `sys.path.insert(0, ${JSON.stringify(dir)})`,
        'from model import Net',
        'import runfolder as rf',
        `d = ${JSON.stringify(dir)}`,
        'names = [w["name"] for w in json.load(open(d + "/weights/model.json"))["weightsManifest"][0]["weights"]]',
        'net = Net().eval()',
        'rf.load_weight_arrays(net, rf.read_model_folder(rf.Path(d + "/weights")), names)',
        `x = torch.from_numpy(np.fromfile(d + "/x.f32", "<f4").reshape(3, ${spec.input.join(', ')})).permute(0, 3, 1, 2)`,
        'with torch.no_grad(): net.predict(x).numpy().astype("<f4").tofile(d + "/y.f32"); net(x).numpy().astype("<f4").tofile(d + "/z.f32")',
      ].join('\n');
      await python(['-c', script]);
      const read = async (file: string) => {
        const bytes = await readFile(path.join(dir, file));
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      };
      const maxDiff = (a: Float32Array, b: Float32Array) => {
        expect(a.length).toBe(b.length);
        return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
      };
      expect(maxDiff(await read('y.f32'), expected), title).toBeLessThan(1e-5);
      // Not a trivially uniform output: the classes are told apart.
      expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.05);
      const scale = Math.max(...Array.from(expectedLogits, Math.abs));
      expect(maxDiff(await read('z.f32'), expectedLogits) / scale, `${title}: logits, relative to the largest`).toBeLessThan(1e-5);
      tf.dispose([x, logits]);
      model.dispose();
    });
  }

  it('export_onnx.py writes an AlexNet (grouped, LRN) that convscope import maps back onto the zoo model, same outputs', { timeout: 120_000 }, async () => {
    const overrides = { input: '67x67x3', width: '0.25', classes: '10' };
    const spec = getModelSpec('alexnet', overrides);
    const dir = await writePackage(spec, 'onnx-alexnet');
    const run = path.join(dir, 'run');
    const model = buildModel(spec, { seed: 5 });
    await saveModel(model, path.join(run, 'model'));
    await writeFile(path.join(run, 'spec.json'), JSON.stringify(spec));
    await python([path.join(dir, 'export_onnx.py'), '--run-dir', run, '--from-model']);
    const imported = await importModel(path.join(run, 'model.onnx'));
    // An inference graph has no dropout: the zoo model comes back with dropout=0, the weights unchanged.
    expect(imported.info.zoo).toEqual({ id: 'alexnet', options: { input: '67x67x3', width: 0.25, classes: 10, dropout: 0 }, patched: [] });
    // RGB as trained, not the BVLC-converted layout's BGR guess for an LRN AlexNet.
    expect(imported.info.preprocessing).toMatchObject({ preset: 'none', channelOrder: 'RGB' });
    const x = tf.randomUniform([2, 67, 67, 3], 0, 255, 'float32', 9);
    const [a, b] = [model, imported.model].map((m) => m.predict(x) as tf.Tensor);
    const diff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, a, b]);
    model.dispose();
    imported.model.dispose();
  });
});
