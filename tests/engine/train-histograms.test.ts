// Weight, activation and gradient histograms of a real training run: counts sum to each tensor's element
// count, bins stay fixed from the first record, the budget stops recording, a resume keeps the bins.
import { describe, it, expect } from 'vitest';
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, resumeRun, startRun, type TrainConfig } from '../../src-main/engine/train';
import { HISTOGRAM_FILE, HistogramRecorder, binRange, histogram, readHistograms } from '../../src-main/engine/train/histograms';
import { bandData } from './train-synthetic';
import { percentile } from '../../src-renderer/src/charts/distribution-chart';
import { runCliInProcess } from '../cli/run-cli';
import { histogramHandlers } from '../../src-main/engine/handlers/histograms';
import { checkResult } from '../../src-main/contract';

const tmp = () => mkdtemp(path.join(tmpdir(), 'convscope-hist-'));
const prepared = (train = 64, test = 16) => ({ data: bandData(train, test), preprocess: { kind: 'synthetic' }, warnings: [] });

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...defaultConfig('lenet5', 'synthetic'),
    model: { id: 'lenet5', overrides: { input: '16x16x1', width: 0.5, activation: 'relu' } },
    backend: 'cpu',
    batchSize: 16,
    epochs: 2,
    statsEvery: 2,
    snapshotEvery: 0,
    probeSize: 8,
    ...overrides,
  };
}

describe('histograms over training', () => {
  it('bins every element of every trainable layer’s kernel, probe output and gradient, with fixed bins', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(config(), { runDir, data: prepared() });
    await trainer.run();
    const records = readHistograms(path.join(runDir, HISTOGRAM_FILE))!;
    // 4 steps per epoch, statistics every 2 steps and at each epoch's end: steps 2, 4, 6, 8.
    expect(records.map((r) => r.step)).toEqual([2, 4, 6, 8]);
    const layers = trainer.model.layers.filter((l) => l.trainableWeights.length > 0);
    expect(records[0].layers.map((l) => l.layer)).toEqual(layers.map((l) => l.name));
    for (const r of records) {
      for (const l of r.layers) {
        const layer = trainer.model.getLayer(l.layer);
        const sizeOf = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);
        const kernelSize = Math.max(...layer.trainableWeights.map((w) => sizeOf(w.shape)));
        const outputSize = 8 * sizeOf((layer.outputShape as number[]).slice(1));
        for (const [h, size] of [[l.weights!, kernelSize], [l.gradients!, kernelSize], [l.activations!, outputSize]] as const) {
          expect(h.counts.reduce((a, b) => a + b, 0) + h.under + h.over).toBe(size);
          expect(h.count).toBe(size);
          expect(h.counts).toHaveLength(30);
        }
        const first = records[0].layers.find((x) => x.layer === l.layer)!;
        expect([l.weights!.lo, l.weights!.hi, l.activations!.lo, l.gradients!.hi]).toEqual([first.weights!.lo, first.weights!.hi, first.activations!.lo, first.gradients!.hi]);
      }
    }
    // The gradients change from record to record (they are of different batches).
    expect(records[1].layers[0].gradients!.counts).not.toEqual(records[0].layers[0].gradients!.counts);
    trainer.dispose();
  });

  it('stops at the disk budget with a line that says so', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(config(), { runDir, data: prepared(), histograms: { budgetBytes: 8_000 } });
    await trainer.run();
    trainer.dispose();
    const records = readHistograms(path.join(runDir, HISTOGRAM_FILE))!;
    const kept = records.filter((r) => r.layers.length > 0);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(4);
    expect(kept.reduce((a, r) => a + Buffer.byteLength(JSON.stringify(r)) + 1, 0)).toBeLessThanOrEqual(8_000);
    expect(records.at(-1)!.stopped).toMatch(/^recording stopped at step \d+: histograms.jsonl reached its budget of 0.0 MiB$/);
  });

  it('a resumed run cuts histograms.jsonl back to its checkpoint and goes on with the same bins', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(config(), { runDir, data: prepared() });
    trainer.on((e) => {
      if (e.type === 'batch' && e.record.step === 6) trainer.stop();
    });
    await trainer.run();
    trainer.dispose();
    const file = path.join(runDir, HISTOGRAM_FILE);
    const before = readHistograms(file)!;
    expect(before.map((r) => r.step)).toEqual([2, 4, 6]);
    // What a run killed after its last checkpoint would have left: a record the resume must drop.
    appendFileSync(file, JSON.stringify({ ...before[2], step: 7 }) + '\n');
    const resumed = await resumeRun(runDir, { data: prepared() });
    await resumed.run();
    resumed.dispose();
    const after = readHistograms(file)!;
    expect(after.map((r) => r.step)).toEqual([2, 4, 6, 8]);
    expect(after[3].layers[0].weights!.lo).toBe(before[0].layers[0].weights!.lo);
  });

  it('keeps the bins of a folder’s first record when recording resumes there', async () => {
    const file = path.join(await tmp(), HISTOGRAM_FILE);
    new HistogramRecorder(file).record(1, 1, [{ layer: 'c', tensors: { weights: [0, 1, 2] } }]);
    const again = new HistogramRecorder(file).record(2, 1, [{ layer: 'c', tensors: { weights: [10, 20] } }])!;
    expect([again.layers[0].weights!.lo, again.layers[0].weights!.hi, again.layers[0].weights!.over]).toEqual([-1, 3, 2]);
    expect(readHistograms(file)!.map((r) => r.step)).toEqual([1, 2]);
  });

  it('counts values outside the fixed bins as under and over', () => {
    const h = histogram([-5, 0, 0.25, 0.5, 0.999, 1, 7], 0, 1, 4);
    expect([h.under, h.counts, h.over, h.count, h.min, h.max]).toEqual([1, [1, 1, 1, 1], 2, 7, -5, 7]);
    expect(binRange(-1, 3)).toEqual([-3, 5]);
    expect(binRange(0, 0)).toEqual([-1e-3, 1e-3]);
  });
});

describe('convscope histograms', () => {
  it('draws a layer’s distributions over a run, and says when a run has none', async () => {
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(config(), { runDir, data: prepared() });
    await trainer.run();
    trainer.dispose();
    const out = path.join(await tmp(), 'charts');
    const r = await runCliInProcess(['histograms', '--run', runDir, '--layer', 'conv2', '--out', out]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('wrote 12 files')]);
    expect(r.stdout).toMatch(/^conv2: 4 steps\n {2}weights/);
    expect(readdirSync(out).sort()).toContain('conv2-gradients-overlay.png');
    const svg = readFileSync(path.join(out, 'conv2-activations.svg'), 'utf8');
    expect(svg).toContain('percentile bands');
    expect((svg.match(/<path/g) ?? []).length).toBe(5); // four bands and the median
    rmSync(path.join(runDir, HISTOGRAM_FILE));
    const old = await runCliInProcess(['histograms', '--run', runDir, '--layer', 'conv2']);
    expect([old.code, old.stderr.trim()]).toEqual([2, `convscope histograms: ${runDir} has no histograms (runs recorded before ConvScope kept them have none)`]);
    const bad = await runCliInProcess(['histograms', '--run', out]);
    expect(bad.stderr).toMatch(/is not a run folder/);
  });

  it('reads percentiles off a histogram', () => {
    const h = { lo: 0, hi: 10, counts: [0, 5, 5, 0, 0, 0, 0, 0, 0, 0], under: 0, over: 0, count: 10, min: 1.2, max: 2.9 };
    expect(percentile(h, 50)).toBeCloseTo(2, 6);
    expect(percentile(h, 0)).toBe(1.2);
    expect(percentile(h, 100)).toBe(2.9);
  });
});

describe('the runHistograms request', () => {
  it('serves one layer of a run, and says a run from before histograms has none', async () => {
    const { runHistograms } = histogramHandlers();
    const ctx = { signal: new AbortController().signal };
    const old = await runHistograms({ runDir: path.resolve(import.meta.dirname, '../../resources/pretrained/lenet5-mnist') }, ctx);
    expect(old).toEqual({ available: false, layers: [], layer: null, stopped: null, records: [] });
    const runDir = path.join(await tmp(), 'run');
    const trainer = await startRun(config({ epochs: 1 }), { runDir, data: prepared() });
    await trainer.run();
    trainer.dispose();
    const r = await runHistograms({ runDir, layer: 'fc1' }, ctx);
    expect([r.available, r.layer, r.layers, r.records.map((x) => x.step)]).toEqual([true, 'fc1', ['conv1', 'conv2', 'fc1', 'fc2', 'fc3'], [2, 4]]);
    expect(checkResult('runHistograms', r).ok).toBe(true);
    await expect(runHistograms({ runDir, layer: 'pool1' }, ctx)).rejects.toThrow(/no histograms of 'pool1'/);
  });
});
