import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RECIPES, findRecipe } from '../../src-main/engine/experiments/recipes';
import { armConfigs, runExperiment, runKey, type ArmRun } from '../../src-main/engine/experiments/runner';
import { writeReport, type MetricsFile } from '../../src-main/engine/experiments/report';
import { compare, spread, stalled } from '../../src-main/engine/experiments/stats';
import { readRunConfig } from '../../src-main/engine/train';
import { writeFashionMnistFixture } from './fashion-mnist-fixture';

const TINY = { limit: 256, testLimit: 128, epochs: 1, scale: 1, seeds: 1, backend: 'wasm' };
let store: string;

beforeAll(async () => {
  store = await mkdtemp(path.join(os.tmpdir(), 'convscope-exp-'));
  // The Fashion-MNIST recipes read a tiny fixture from the dataset cache (searched before any system copy),
  // so the suite needs no Debian package and no download. Each test file runs in its own process.
  process.env.CONVSCOPE_CACHE_DIR = path.join(store, 'cache');
  writeFashionMnistFixture(path.join(store, 'cache', 'datasets', 'fashion-mnist'));
});

async function runAndReport(name: string, extra: Partial<typeof TINY> = {}) {
  const recipe = findRecipe(name)!;
  const o = { ...TINY, ...extra, runsDir: path.join(store, 'runs') };
  const runs = await runExperiment(recipe, o);
  const out = path.join(store, name);
  const metrics = await writeReport(out, recipe, runs, { command: `convscope experiment ${name}`, backend: 'wasm', wallSeconds: 1, seeds: o.seeds, trainExamples: 256, testExamples: 128 });
  return { recipe, runs, out, metrics };
}

describe('experiment recipes on a tiny limit', () => {
  it.each(RECIPES.map((r) => r.name))('%s writes a report whose plotted numbers are the metrics', async (name) => {
    const { recipe, runs, out, metrics } = await runAndReport(name);
    const files = await readdir(out);
    expect(files).toEqual(expect.arrayContaining(['report.md', 'metrics.json', 'train-loss.svg', 'train-loss.png', 'test-accuracy.svg', 'test-accuracy.png']));
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(new RegExp(`^# ${recipe.title.replace(/[()]/g, '\\$&')}`));
    expect(md).toContain(`convscope experiment ${name}`);
    expect(md).toMatch(/Training examples per run: 256; test examples: 128; seeds: 1/);
    expect(md).toMatch(/Backend: wasm/);
    if (recipe.published.length) expect(md).toMatch(/\| arm \| metric \| published \| ours \| ours − published \|/);

    const saved = JSON.parse(await readFile(path.join(out, 'metrics.json'), 'utf8')) as MetricsFile;
    expect(saved).toEqual(JSON.parse(JSON.stringify(metrics)));
    expect(saved.arms.map((a) => a.arm)).toEqual(recipe.arms(TINY).map((a) => a.id));
    // The loss plot's points are each arm's per-epoch train losses (one seed: the mean is the value).
    const lossPlot = saved.plots.find((p) => p.file === 'train-loss.svg')!;
    for (const arm of saved.arms) {
      const run = runs.find((r) => r.arm.id === arm.arm)!;
      if (run.diverged) continue;
      const series = lossPlot.series.find((s) => s.name === run.arm.label)!;
      expect(series.ys).toEqual(arm.seeds[0].trainLoss);
      expect(series.ys).toEqual(run.epochs.map((e) => e.loss));
    }
    const svg = await readFile(path.join(out, 'train-loss.svg'), 'utf8');
    for (const s of lossPlot.series) expect(svg).toContain(s.name);

    if (name === 'activation') {
      // The first epoch's gradients and saturation, from each arm's layer statistics.
      expect(md).toContain('## Gradients and saturation over the first epoch');
      const gradPlot = saved.plots.find((p) => p.file === 'first-layer-gradient.svg')!;
      for (const run of runs) {
        const records = run.layerStats.filter((r) => r.epoch === 1);
        expect(gradPlot.series.find((x) => x.name === run.arm.label)!.ys).toEqual(records.map((r) => r.layers.find((l) => l.layer === 'conv1')!.gradientNorm));
        const end = records.at(-1)!.layers.find((l) => l.layer === 'conv1')!;
        const state = end.saturatedFraction !== undefined ? `${(end.saturatedFraction * 100).toFixed(1)}% saturated` : `${end.deadChannels}/${end.channels} channels dead`;
        expect(md).toContain(`| ${run.arm.label} | conv1 | ${records[0].layers.find((l) => l.layer === 'conv1')!.gradientNorm!.toFixed(4)} |`);
        expect(md).toMatch(new RegExp(`\\| ${run.arm.label} \\| conv1 \\|[^\\n]*\\| ${state.replace(/[./]/g, '\\$&')} \\|`));
      }
    }
  }, 240_000);
});

describe('the run store', () => {
  it('shares one run between experiments: activation’s relu arm is dropout’s no-dropout arm', () => {
    const o = { ...TINY, runsDir: '/runs' };
    const act = armConfigs(findRecipe('activation')!, o).find((a) => a.arm.id === 'relu')!;
    const drop = armConfigs(findRecipe('dropout')!, o).find((a) => a.arm.id === 'relu')!;
    expect(act.runDir).toBe(drop.runDir);
    // The epoch count is not part of the key: a 30-epoch run serves a 20-epoch arm.
    const conv = armConfigs(findRecipe('lenet5-convergence')!, { ...o, epochs: 30 })[0];
    const tanh = armConfigs(findRecipe('activation')!, { ...o, epochs: 20 }).find((a) => a.arm.id === 'tanh')!;
    expect(conv.runDir).toBe(tanh.runDir);
    expect(runKey({ ...conv.config, seed: 2 })).not.toBe(runKey(conv.config));
  });

  it('keeps the key of a run stored before later settings existed (its folder name ends in the key)', async () => {
    const dir = path.resolve(import.meta.dirname, '../../docs/results/runs/lenet5-lr-0.01-s1-7279faec8a');
    const config = await readRunConfig(dir);
    expect(config).toMatchObject({ loss: 'logits', augment: 'none', storedSize: null });
    expect(runKey(config)).toBe('7279faec8a');
    expect(runKey({ ...config, loss: 'keras-clipped' })).not.toBe('7279faec8a');
  });

  it('reuses finished runs and extends a shorter one instead of starting again', async () => {
    const runsDir = path.join(store, 'extend-runs');
    const recipe = findRecipe('lenet5-convergence')!;
    const first = await runExperiment(recipe, { ...TINY, runsDir });
    expect(first[0].epochs).toHaveLength(1);
    const actions: string[] = [];
    const again = await runExperiment(recipe, { ...TINY, runsDir, onArm: (_a, _s, _d, action) => actions.push(action) });
    expect(actions).toEqual(['reuse']);
    expect(again[0].epochs).toEqual(first[0].epochs);
    const longer = await runExperiment(recipe, { ...TINY, epochs: 2, runsDir, onArm: (_a, _s, _d, action) => actions.push(action) });
    expect(actions).toEqual(['reuse', 'resume']);
    expect(longer[0].runDir).toBe(first[0].runDir);
    expect(longer[0].epochs).toHaveLength(2);
    expect(longer[0].epochs[0]).toEqual(first[0].epochs[0]);
    expect(existsSync(first[0].runDir + '.lock')).toBe(false);
  });

  it('keeps the recipe’s arm order and labels any diverged arm as diverged', async () => {
    const recipe = findRecipe('dead-relu')!;
    const runs: ArmRun[] = await runExperiment(recipe, { ...TINY, runsDir: path.join(store, 'runs') });
    // lr 1.0 on this net diverges or kills units; whichever happened is labelled as such in the report.
    const out = path.join(store, 'dead-relu-check');
    await writeReport(out, recipe, runs, { command: 'x', backend: 'wasm', wallSeconds: 0, seeds: 1, trainExamples: 256, testExamples: 128 }, runs.filter((r) => r.diverged).map((r) => `diverged ${r.arm.id}`));
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    for (const r of runs.filter((x) => x.diverged)) expect(md).toContain(`diverged in 1/1 (step ${r.diverged!.step})`);
    expect(runs.map((r) => r.arm.id)).toEqual(['lr-0.01', 'lr-0.1', 'lr-0.5', 'lr-1']);
  });
});

describe('report statistics', () => {
  it('calls a difference inconclusive while the seeds’ ranges overlap', () => {
    const a = spread([0.981, 0.983, 0.985]);
    expect(a.mean).toBeCloseTo(0.983, 10);
    expect(a.sd).toBeCloseTo(0.002, 10);
    expect(compare(a, spread([0.982, 0.984, 0.986]))).toBe('inconclusive');
    expect(compare(a, spread([0.990, 0.991, 0.992]))).toBe('higher');
    expect(compare(a, spread([0.99]))).toBe('single seed');
  });

  it('tells a stalled run (flat loss, chance accuracy) from a slow or converged one', () => {
    const ep = (losses: number[], acc: number) => losses.map((loss, i) => ({ epoch: i + 1, loss, accuracy: acc }));
    // The dropout recipe's relu seed 3 under Keras 2.2's loss: frozen from its first epoch.
    expect(stalled(ep([14.4351, 14.4351, 14.4351, 14.4351], 0.1044))).toEqual({ epoch: 1, loss: 14.4351, accuracy: 0.1044 });
    expect(stalled(ep([2.35, 2.3012, 2.30121, 2.3012], 0.1124))).toEqual({ epoch: 2, loss: 2.3012, accuracy: 0.1124 });
    expect(stalled(ep([0.05, 0.05, 0.05], 0.99))).toBeNull(); // converged, not stalled
    expect(stalled(ep([2.3, 2.2, 2.1, 2.0], 0.3))).toBeNull(); // slow, but moving
    expect(stalled(ep([14.4, 14.4], 0.1))).toBeNull(); // too short to tell
  });
});
