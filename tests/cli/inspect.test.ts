// convscope inspect / kernels / eval on a run folder trained by `convscope train` on real MNIST. One
// call goes through bin/convscope.mjs in a child process; the rest call the CLI's main() in this process
// (a child costs seconds of start-up each).
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../src-main/cli/main';
import { runCli } from './run-cli';


const child = runCli;

/** main(argv) in this process, with what it writes to stdout and stderr. */
async function convscope(args: string[]) {
  let stdout = '';
  let stderr = '';
  const capture = (append: (s: string) => void) => ((chunk: string | Uint8Array) => (append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()), true)) as typeof process.stdout.write;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => (stdout += s)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => (stderr += s)));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let dir: string;
let runDir: string;
let digit: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convscope-cli-inspect-'));
  runDir = path.join(dir, 'run');
  const r = await convscope(['train', '--model', 'lenet5', '--dataset', 'mnist', '--limit', '512', '--test-limit', '64', '--set', 'activation=relu', '--backend', 'wasm', '--out', runDir]);
  expect(r.code, r.stderr).toBe(0);
  // A "1": a white vertical stroke on black, 40x40 (resized to the model's 28x28).
  const raw = Buffer.alloc(40 * 40);
  for (let y = 6; y < 34; y++) for (let x = 18; x < 23; x++) raw[y * 40 + x] = 255;
  digit = path.join(dir, 'one.png');
  await writeFile(digit, await sharp(raw, { raw: { width: 40, height: 40, channels: 1 } }).png().toBuffer());
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('convscope inspect', () => {
  it('prints every layer of a trained run as JSON with MNIST labels and dead ReLU channels', async () => {
    const r = await child(['inspect', '--model', runDir, '--image', digit, '--json', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.input).toEqual({ width: 28, height: 28, channels: 1 });
    expect(out.predictions).toHaveLength(5);
    for (const p of out.predictions) expect(p.label).toBe(String(p.index));
    const probs = out.predictions.map((p: { prob: number }) => p.prob);
    expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    expect(out.layers.map((l: { name: string }) => l.name)).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'fc2', 'fc3']);
    const conv1 = out.layers[0];
    expect(conv1).toMatchObject({ type: 'Conv2D', shape: [24, 24, 6] });
    expect(conv1.stats.min).toBe(0); // ReLU output
    expect(conv1.stats.zeroFraction).toBeGreaterThan(0);
    expect(Array.isArray(conv1.deadChannels)).toBe(true);
    expect(out.layers[1].deadChannels).toBeUndefined();
  });

  it('writes the PNGs with --out and restricts to one layer with --layer', async () => {
    const out = path.join(dir, 'pngs');
    const r = await convscope(['inspect', '--model', runDir, '--image', digit, '--out', out, '--layer', 'conv2', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^conv2\s+Conv2D\s+8x8x16/m);
    expect(r.stdout).not.toMatch(/^conv1 /m);
    for (const f of ['input.png', 'activations/03-conv2.png', 'saliency.png', 'gradcam.png', 'gradcam-conv2-map.png']) {
      const meta = await sharp(path.join(out, f)).metadata();
      expect(meta.format, f).toBe('png');
      expect(meta.width).toBeGreaterThanOrEqual(128);
    }
  });

  it('--attribution draws every method named, the CAM methods at --target-layer', async () => {
    const out = path.join(dir, 'attributions');
    const r = await convscope(['inspect', '--model', runDir, '--image', digit, '--out', out, '--json', '--attribution', 'all', '--target-layer', 'conv1', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const top = json.predictions[0].index;
    expect(json.attributions).toEqual([
      { method: 'saliency', classIndex: top, score: 'logit' },
      { method: 'gradcam', classIndex: top, score: 'logit', layer: 'conv1' },
      { method: 'gradcam++', classIndex: top, score: 'logit', layer: 'conv1' },
      { method: 'scorecam', classIndex: top, score: 'logit', layer: 'conv1' },
      { method: 'smoothgrad', classIndex: top, score: 'logit' },
      { method: 'integrated-gradients', classIndex: top, score: 'logit' },
    ]);
    const sizes: Record<string, [number, number]> = {};
    const pixels: Record<string, string> = {};
    for (const f of ['saliency.png', 'gradcam.png', 'gradcam-conv1-map.png', 'gradcam++.png', 'gradcam++-conv1-map.png', 'scorecam.png', 'scorecam-conv1-map.png', 'smoothgrad.png', 'integrated-gradients.png']) {
      const { data, info } = await sharp(path.join(out, f)).raw().toBuffer({ resolveWithObject: true });
      expect(info.width, f).toBe(info.height);
      sizes[f] = [info.width, info.height];
      pixels[f] = data.toString('base64');
    }
    // 28x28 input maps and 24x24 conv1 maps, enlarged by whole factors to at least 256 pixels.
    expect(sizes['smoothgrad.png']).toEqual([280, 280]);
    expect(sizes['scorecam-conv1-map.png']).toEqual([264, 264]);
    // Six methods, six different maps.
    expect(new Set(['saliency.png', 'gradcam.png', 'gradcam++.png', 'scorecam.png', 'smoothgrad.png', 'integrated-gradients.png'].map((f) => pixels[f])).size).toBe(6);

    const some = await convscope(['inspect', '--model', runDir, '--image', digit, '--out', path.join(dir, 'some'), '--attribution', 'scorecam, smoothgrad', '--backend', 'wasm']);
    expect(some.code, some.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'some', 'scorecam-conv2-map.png'))).toBe(true);
    expect(existsSync(path.join(dir, 'some', 'smoothgrad.png'))).toBe(true);
    expect(existsSync(path.join(dir, 'some', 'saliency.png'))).toBe(false);
  });

  it('refuses a bad --attribution in one line', async () => {
    for (const [args, message] of [
      [['--out', path.join(dir, 'x'), '--attribution', 'gradcam,lime'], /^--attribution: unknown method 'lime' \(saliency, gradcam, gradcam\+\+, scorecam, smoothgrad, integrated-gradients or all\)/],
      [['--attribution', 'gradcam'], /^--attribution draws maps: give --out DIR too/],
      [['--out', path.join(dir, 'x'), '--target-layer', 'conv9'], /--target-layer: the model has no layer 'conv9'/],
      [['--out', path.join(dir, 'x'), '--target-layer', 'conv1', '--gradcam-layer', 'conv2'], /same option; give one/],
    ] as [string[], RegExp][]) {
      const r = await convscope(['inspect', '--model', runDir, '--image', digit, ...args, '--backend', 'cpu']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.replace(/^convscope inspect: |^error: /, '')).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('inspects an untrained zoo model with overrides', async () => {
    const r = await convscope(['inspect', '--model', 'alexnet', '--set', 'width=0.125', '--set', 'input=67x67x3', '--set', 'classes=7', '--image', digit, '--json', '--top', '3', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.input).toEqual({ width: 67, height: 67, channels: 3 });
    expect(out.predictions.map((p: { label: string }) => p.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^class \d$/)]));
    expect(out.layers.find((l: { name: string }) => l.name === 'conv2').type).toBe('GroupedConv2D');
  });

  it('reports bad input in one line with exit code 2', async () => {
    const empty = path.join(dir, 'empty.png');
    await writeFile(empty, '');
    const cases: [string[], RegExp][] = [
      [['--model', runDir, '--image', empty], /empty\.png: empty file/],
      [['--model', runDir, '--image', path.join(dir, 'missing.png')], /cannot read the file/],
      [['--model', runDir, '--image', digit, '--layer', 'conv9'], /no layer 'conv9'/],
      [['--model', runDir, '--image', digit, '--checkpoint', '3'], /keeps checkpoints at steps 8 and 0, and its initial weights/],
      [['--model', 'resnet50', '--image', digit], /unknown model 'resnet50'/],
      [['--image', digit], /--model is required/],
      [['--model', 'alexnet', '--set', 'input=4096x4096x1', '--image', digit], /alexnet \(input 4096x4096x1, .* parameters\) needs about .* more than the limit of 2\.0 GiB \(CONVSCOPE_MODEL_MEMORY_LIMIT=2GiB\)/],
      [['--model', 'alexnet', '--set', 'width=16', '--image', digit], /alexnet \(input 227x227x3, .* parameters\) needs about .* more than the limit of 2\.0 GiB/],
    ];
    process.env.CONVSCOPE_MODEL_MEMORY_LIMIT = '2GiB';
    for (const [args, message] of cases) {
      const r = await convscope(['inspect', ...args, '--backend', 'cpu']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    delete process.env.CONVSCOPE_MODEL_MEMORY_LIMIT;
  });
});

describe('convscope kernels', () => {
  it('draws one frame per kernel snapshot of the run', async () => {
    const out = path.join(dir, 'kernels');
    const r = await convscope(['kernels', '--model', runDir, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { layers } = JSON.parse(r.stdout);
    expect(layers.map((l: { layer: string; shape: number[] }) => [l.layer, l.shape])).toEqual([
      ['conv1', [5, 5, 1, 6]],
      ['conv2', [5, 5, 6, 16]],
    ]);
    for (const l of layers) {
      expect(l.frames.map((f: { step: number }) => f.step)).toEqual([0, 8]);
      for (const f of l.frames) expect(existsSync(f.file)).toBe(true);
    }
    const diff = await convscope(['kernels', '--model', runDir, '--out', path.join(dir, 'diff'), '--diff', '--layer', 'conv1', '--json']);
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout).layers[0].frames[0].meanNorm).toBe(0); // the first snapshot minus itself
    const bad = await convscope(['kernels', '--model', runDir, '--out', out, '--layer', 'fc1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/conv layers: conv1, conv2/);
  });
});

describe('convscope eval', () => {
  it('gives accuracy, top-5 and a confusion matrix consistent with its misclassified cells', async () => {
    const r = await convscope(['eval', '--model', runDir, '--json', '--limit', '300', '--dead-relus', '--probe', '64', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.examples).toBe(300);
    expect(out.heldOut).toBe('test');
    expect(out.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const rows: number[][] = out.confusion;
    expect(rows.flat().reduce((a, b) => a + b, 0)).toBe(300);
    const diagonal = rows.reduce((s, row, i) => s + row[i], 0);
    expect(out.accuracy).toBeCloseTo(diagonal / 300, 12);
    expect(out.top1Error).toBeCloseTo(1 - diagonal / 300, 12);
    expect(out.top5Error).toBeLessThanOrEqual(out.top1Error);
    for (const cell of out.misclassified) expect(cell.examples).toHaveLength(rows[cell.true][cell.predicted]);
    expect(out.misclassified.reduce((s: number, c: { examples: number[] }) => s + c.examples.length, 0)).toBe(300 - diagonal);
    expect(out.deadRelus.probeSize).toBe(64);
    expect(out.deadRelus.layers.map((l: { layer: string }) => l.layer)).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);

    const text = await convscope(['eval', '--model', runDir, '--limit', '300', '--backend', 'wasm']);
    expect(text.stdout).toMatch(new RegExp(`accuracy ${(100 * out.accuracy).toFixed(2)}%`));
    const zoo = await convscope(['eval', '--model', 'lenet5']);
    expect(zoo.code).toBe(2);
    expect(zoo.stderr).toMatch(/needs a run folder/);
  });
});
