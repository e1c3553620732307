// convscope top-patches / neighbours / embed / visualize on the bundled LeNet-5 run, in this process with
// small limits; the insight cache in a scratch folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourcesDir } from '../../src-main/engine/paths';
import { runCliInProcess as convscope } from './run-cli';

const run = path.join(resourcesDir(), 'pretrained', 'lenet5-mnist');
const sample = path.join(resourcesDir(), 'samples', 'mnist-3-test18.png');
let dir: string;
const savedCache = process.env.CONVSCOPE_CACHE_DIR;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convscope-cli-insight-'));
  process.env.CONVSCOPE_CACHE_DIR = path.join(dir, 'cache');
});
afterAll(async () => {
  if (savedCache === undefined) delete process.env.CONVSCOPE_CACHE_DIR;
  else process.env.CONVSCOPE_CACHE_DIR = savedCache;
  await rm(dir, { recursive: true, force: true });
});

describe('convscope insight commands', () => {
  it('top-patches writes a PNG grid per channel and the JSON', async () => {
    const out = path.join(dir, 'tp');
    const r = await convscope(['top-patches', '--model', run, '--layer', 'pool1', '--k', '4', '--limit', '40', '--out', out, '--json', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ layer: 'pool1', examples: 40, k: 4, dataset: 'mnist', split: 'test' });
    expect(json.field.y).toEqual({ size: 6, jump: 2, start: 0 });
    expect(json.channels).toHaveLength(6);
    expect(readdirSync(path.join(out, 'pool1')).sort()).toEqual(['channel-000.png', 'channel-001.png', 'channel-002.png', 'channel-003.png', 'channel-004.png', 'channel-005.png']);
    expect(JSON.parse(readFileSync(path.join(out, 'top-patches.json'), 'utf8')).channels).toEqual(json.channels);
  });

  it('neighbours lists the nearest training examples with distances', async () => {
    const r = await convscope(['neighbours', '--model', run, '--image', sample, '--limit', '500', '--k', '3', '--json', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ layer: 'fc2', dim: 84, examples: 500, split: 'train', predicted: { className: '3' } });
    expect(json.neighbours).toHaveLength(3);
    expect(json.neighbours[0].distance).toBeLessThanOrEqual(json.neighbours[2].distance);
  });

  it('embed writes the maps and the coordinates', async () => {
    const out = path.join(dir, 'embed');
    const r = await convscope(['embed', '--model', run, '--limit', '200', '--out', out, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'map-label.svg'), 'utf8')).toMatch(/^<svg[^>]+xmlns/);
    expect(existsSync(path.join(out, 'map-correctness.svg'))).toBe(true);
    const json = JSON.parse(readFileSync(path.join(out, 'embedding.json'), 'utf8'));
    expect(json.points).toHaveLength(200);
    expect(json.explained[0]).toBeGreaterThanOrEqual(json.explained[1]);
  });

  it('embed --method umap lays the points out the same way for the same seed', async () => {
    const run1 = await convscope(['embed', '--model', run, '--limit', '150', '--method', 'umap', '--seed', '3', '--out', path.join(dir, 'umap1'), '--backend', 'cpu']);
    expect(run1.code, run1.stderr).toBe(0);
    const run2 = await convscope(['embed', '--model', run, '--limit', '150', '--method', 'umap', '--seed', '3', '--out', path.join(dir, 'umap2'), '--backend', 'cpu']);
    expect(run2.code, run2.stderr).toBe(0);
    const [a, b] = ['umap1', 'umap2'].map((d) => JSON.parse(readFileSync(path.join(dir, d, 'embedding.json'), 'utf8')));
    expect(a.method).toBe('umap');
    expect(a.seed).toBe(3);
    expect(a.points).toHaveLength(150);
    expect(b.points).toEqual(a.points);
    const bad = await convscope(['embed', '--model', run, '--method', 'tsne', '--out', path.join(dir, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('visualize writes the image and its history', async () => {
    const out = path.join(dir, 'vis');
    const r = await convscope(['visualize', '--model', run, '--layer', 'conv1', '--channel', '2', '--steps', '3', '--out', out, '--json', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ objective: { kind: 'channel', layer: 'conv1', channel: 2 }, steps: 3 });
    expect(existsSync(path.join(out, 'conv1-channel-2.png'))).toBe(true);
  });

  it('refuses what it cannot do in one line', async () => {
    expect(await convscope(['visualize', '--model', run, '--class', '3', '--layer', 'conv1', '--out', dir])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--class K stands alone/) });
    expect(await convscope(['top-patches', '--model', run, '--layer', 'fc1', '--out', dir, '--backend', 'cpu'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/conv or pooling layer/) });
    expect(await convscope(['neighbours', '--model', run, '--out', dir])).toMatchObject({ code: 2 });
    expect(await convscope(['embed', '--model', run, '--out', dir, '--dataset', 'nope', '--backend', 'cpu'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown dataset 'nope'/) });
  });
});
