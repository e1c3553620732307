// `convscope import`: the model folder it writes, its JSON and text reports, and exit code 2 with one line
// for bad input. One run goes through bin/convscope.mjs in a child process; the rest call the CLI's main()
// in this process (a child costs seconds of start-up each).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, runCliInProcess } from './run-cli';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
let scratch: string;

const convscope = (args: string[]) => runCli(args, { cwd: scratch });

const inProcess = runCliInProcess;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-cli-import-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('convscope import', () => {
  it('writes model.json, weights.bin and model-info.json and reports the zoo match as JSON', async () => {
    const out = path.join(scratch, 'grouped');
    const r = await inProcess(['import', path.join(FIXTURES, 'alexnet-grouped-small.onnx'), '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      source: { format: 'onnx', file: 'alexnet-grouped-small.onnx', producer: 'pytorch 1.13.0' },
      out,
      name: 'alexnet',
      zoo: { id: 'alexnet', options: { width: 0.0625, lrn: false, dropout: 0, classes: 10 } },
      params: 227_314,
      input: { height: 227, width: 227, channels: 3 },
      preprocessing: { preset: 'torchvision-imagenet', channelOrder: 'RGB' },
      output: { classes: 10, softmax: true },
      classNames: null,
    });
    expect((await readdir(out)).sort()).toEqual(['model-info.json', 'model.json', 'weights.bin']);
    expect(report.weightBytes).toBe(4 * 227_314);
    const info = JSON.parse(await readFile(path.join(out, 'model-info.json'), 'utf8'));
    expect(info.zoo.id).toBe('alexnet');
  });

  it('prints a readable report and defaults --out to ./imported/<name>', async () => {
    const r = await convscope(['import', path.join(FIXTURES, 'alexnet-torchvision-small.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/model\s+alexnet_torchvision_small: 206,642 params, input 224x224x3, 10 outputs \(logits\)/);
    expect(r.stdout).toMatch(/no zoo model has this layout/);
    expect(r.stdout).toMatch(/preprocess\s+torchvision-imagenet: RGB/);
    expect((await readdir(path.join(scratch, 'imported', 'alexnet_torchvision_small'))).sort()).toEqual(['model-info.json', 'model.json', 'weights.bin']);
  });

  it('inspect on an imported torchvision AlexNet uses its preprocessing and prints its notes', async () => {
    const out = path.join(scratch, 'tv-zoo');
    expect((await inProcess(['import', path.join(FIXTURES, 'alexnet-torchvision-zoo.onnx'), '--out', out])).code).toBe(0);
    const image = path.resolve(import.meta.dirname, '../../resources/samples/fashion-sneaker-test9.png');
    const r = await inProcess(['inspect', '--model', out, '--image', image]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model: model folder .*tv-zoo/m);
    expect(r.stdout).toMatch(/^input: png 28x28 -> 224x224x3, .*/m);
    expect(r.stdout).toMatch(/^note: .*logits/m);
  });

  it('attaches class names from --classes and checks their count', async () => {
    const names = path.join(scratch, 'digits.txt');
    await writeFile(names, Array.from({ length: 10 }, (_, i) => `digit ${i}`).join('\n') + '\n');
    const out = path.join(scratch, 'lenet');
    const r = await inProcess(['import', path.join(FIXTURES, 'lenet5.onnx'), '--out', out, '--classes', names]);
    expect(r.code).toBe(0);
    const info = JSON.parse(await readFile(path.join(out, 'model-info.json'), 'utf8'));
    expect(info.classNames[3]).toBe('digit 3');
    await writeFile(names, 'one\ntwo\n');
    const bad = await inProcess(['import', path.join(FIXTURES, 'lenet5.onnx'), '--out', out, '--classes', names]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has 2 class names but the model has 10 outputs/);
  });

  it('exits 2 with one line for bad files, flags and output folders', async () => {
    const junk = path.join(scratch, 'junk.onnx');
    await writeFile(junk, 'not a model at all');
    const r = await inProcess(['import', junk]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^convscope import: junk\.onnx is not .*ONNX model/);

    const flag = await inProcess(['import', path.join(FIXTURES, 'lenet5.onnx'), '--preprocess', 'vgg']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--preprocess must be one of caffe-imagenet, torchvision-imagenet, scale, none/);

    const busy = path.join(scratch, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'notes.txt'), 'mine');
    const taken = await inProcess(['import', path.join(FIXTURES, 'lenet5.onnx'), '--out', busy]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/--out .*busy exists and is not a model folder/);

    expect((await inProcess(['import'])).code).toBe(2);
  });

  it('--mean/--std and --preprocess scale for a 1-channel model; a preset that does not fit its channels is refused in one line', async () => {
    const mnist = path.join(FIXTURES, 'mnist-01.onnx');
    const normalised = await inProcess(['import', mnist, '--out', path.join(scratch, 'mnist-norm'), '--mean', '0.1307', '--std', '0.3081', '--json']);
    expect(normalised.code, normalised.stderr).toBe(0);
    expect(JSON.parse(normalised.stdout).preprocessing).toMatchObject({ preset: 'normalize', channelOrder: 'gray', scale: 1 / 255, mean: [0.1307], std: [0.3081], resizeShorterSide: null });
    const scaled = await inProcess(['import', mnist, '--out', path.join(scratch, 'mnist-scale'), '--preprocess', 'scale']);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(scaled.stdout).toMatch(/preprocess\s+scale: gray, x = \(pixel \* 0\.003922 - \[0\]\) \/ \[1\]/);

    const wrong = await inProcess(['import', mnist, '--out', path.join(scratch, 'mnist-wrong'), '--preprocess', 'torchvision-imagenet']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim()).toBe('convscope import: --preprocess torchvision-imagenet is for 3-channel (RGB) models; this model takes 1 channel: use scale, none, or --mean/--std with 1 value each');
    const three = await inProcess(['import', mnist, '--out', path.join(scratch, 'mnist-three'), '--mean', '0.5,0.5,0.5', '--std', '0.2,0.2,0.2']);
    expect(three.code).toBe(2);
    expect(three.stderr).toMatch(/this model takes 1, given 3 means and 3 stds/);
    const bad = await inProcess(['import', mnist, '--mean', '0.1,x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mean must be numbers separated by commas/);
    const both = await inProcess(['import', mnist, '--preprocess', 'scale', '--std', '0.3']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --preprocess or --mean\/--std, not both/);
  });
});
