// Small renderer helpers that decide what users see: option controls, chart series preparation, model sources.
import { describe, it, expect } from 'vitest';
import { checkValue, controlFor, changedOptions } from '../../src-renderer/src/architecture/options';
import { formatDuration, smooth, thin } from '../../src-renderer/src/charts/series';
import { modelSources } from '../../src-renderer/src/activations/sources';
import { listModels } from '../../src-main/engine/models/zoo';

describe('model option controls', () => {
  it('reads every option the zoo declares into a control', () => {
    for (const m of listModels()) {
      for (const o of m.options) {
        const c = controlFor(o.accepts);
        if (o.key === 'input') expect(c.type).toBe('text');
        else expect(c.type, `${m.id}.${o.key}: ${o.accepts}`).not.toBe('text');
      }
    }
  });

  it('checks numbers against their ranges, open ends included', () => {
    const dropout = controlFor('a number in [0, 1)');
    expect(dropout).toMatchObject({ type: 'number', min: 0, max: 1, maxExclusive: true, integer: false });
    expect(checkValue(dropout, 0.5)).toBeNull();
    expect(checkValue(dropout, 1)).toBe('must be below 1');
    expect(checkValue(controlFor('a number in (0, 16]'), 0)).toBe('must be above 0');
    const classes = controlFor('a whole number from 2 to 100000');
    expect(checkValue(classes, 2.5)).toBe('enter a whole number');
    expect(checkValue(classes, 1)).toBe('must be at least 2');
    expect(controlFor('one of relu, tanh, sigmoid')).toEqual({ type: 'enum', values: ['relu', 'tanh', 'sigmoid'] });
    expect(changedOptions({ activation: 'relu', dropout: 0 }, { activation: 'tanh', dropout: 0 })).toEqual({ activation: 'relu' });
  });
});

describe('chart series', () => {
  it('thins long columns to a drawable count, keeping the ends', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i + 1);
    const t = thin(xs, xs, 500);
    expect(t.xs).toHaveLength(500);
    expect(t.xs[0]).toBe(1);
    expect(t.xs.at(-1)).toBe(10_000);
    expect(thin([1, 2], [3, 4]).ys).toEqual([3, 4]);
  });

  it('smooths without pulling the start towards zero and skips gaps', () => {
    const s = smooth([2, 2, NaN, 2], 0.9);
    expect(s[0]).toBeCloseTo(2);
    expect(s[1]).toBeCloseTo(2);
    expect(s[3]).toBeCloseTo(2);
    const step = smooth([0, 0, 0, 10], 0.5);
    expect(step[3]).toBeGreaterThan(0);
    expect(step[3]).toBeLessThan(10);
  });

  it('formats durations for the ETA', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(7320)).toBe('2 h 2 min');
  });
});

describe('model sources', () => {
  it('offers the zoo choice, the runs and opened files, each with a reference the contract accepts', () => {
    const run = { runDir: '/runs/20261128-lenet5', runId: null, modelId: 'lenet5', dataset: 'mnist', status: { state: 'finished' as const, updatedAt: '', globalStep: 10, epoch: 1 }, epochs: 1, lastEpoch: null };
    const opened = { ref: { kind: 'file' as const, path: '/m/model.onnx' }, format: 'ONNX', summary: { name: 'm', layers: [], totalParams: 0, trainableParams: 0, nonTrainableParams: 0 }, input: [28, 28, 1] as [number, number, number], classNames: null, warnings: [] };
    const sources = modelSources({ id: 'lenet5', overrides: { activation: 'relu' } }, undefined, [run], [opened]);
    expect(sources.map((s) => s.key)).toEqual(['zoo', 'run:/runs/20261128-lenet5', 'file:/m/model.onnx', 'run0:/runs/20261128-lenet5']);
    expect(sources[3].ref).toEqual({ kind: 'run', dir: '/runs/20261128-lenet5', checkpoint: 0 });
    expect(sources[3].label).toBe('Run 20261128-lenet5 at step 0 (its initial weights)');
    expect(sources[0].ref).toEqual({ kind: 'zoo', id: 'lenet5', overrides: { activation: 'relu' } });
    expect(sources[0].label).toContain('activation=relu');
    expect(sources[1].ref).toEqual({ kind: 'run', dir: '/runs/20261128-lenet5' });
    expect(sources[2].label).toBe('model.onnx (ONNX)');
  });
});
