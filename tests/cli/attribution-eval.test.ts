// convscope attribution-eval on the bundled LeNet-5 run and real MNIST: the report's files, its figures'
// ranges, and the refusals.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliInProcess } from './run-cli';

const LENET = new URL('../../resources/pretrained/lenet5-mnist', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convscope-attr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('convscope attribution-eval', () => {
  it('averages deletion and insertion over the images into a report', async () => {
    const out = path.join(dir, 'report');
    const r = await runCliInProcess(['attribution-eval', '--model', LENET, '--dataset', 'mnist', '--methods', 'saliency,gradcam,integrated-gradients', '--limit', '3', '--steps', '49', '--json', '--out', out, '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.images).toBe(3);
    expect(json.stepSize).toBe(16);
    expect(json.xs).toHaveLength(50);
    expect(json.methods.map((m: { method: string }) => m.method)).toEqual(['saliency', 'gradcam', 'integrated-gradients', 'random']);
    for (const m of json.methods) {
      for (const auc of [m.deletionAuc.mean, m.insertionAuc.mean]) {
        expect(auc).toBeGreaterThanOrEqual(0);
        expect(auc).toBeLessThanOrEqual(1);
      }
      // All curves of one image start from the same probability.
      expect(m.deletion[0]).toBeCloseTo(json.methods[0].deletion[0], 6);
    }
    expect(json.methods[1].layer).toBe('conv2');
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('convscope attribution-eval --model');
    expect(md).toMatch(/\| integrated-gradients \| – \| \d\.\d{4} ± /);
    expect(md).toMatch(/Most faithful/);
    expect(await readFile(path.join(out, 'deletion.svg'), 'utf8')).toContain('<svg');
    expect((await readFile(path.join(out, 'insertion.png'))).subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses unknown methods and missing flags in one line', async () => {
    const bad = await runCliInProcess(['attribution-eval', '--model', LENET, '--dataset', 'mnist', '--methods', 'saliency,lime']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, expect.stringMatching(/^convscope attribution-eval: --methods: unknown method 'lime' \(methods: saliency, /)]);
    const none = await runCliInProcess(['attribution-eval', '--model', LENET]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--dataset is required/);
  });
});
