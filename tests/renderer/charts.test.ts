// The renderer's chart code runs in Node without a DOM (the report writer uses it): geometry and SVG.
import { describe, it, expect } from 'vitest';
import { layoutLineChart, lineChartSvg } from '../../src-renderer/src/charts/line-chart';
import { layoutConfusion, confusionSvg } from '../../src-renderer/src/charts/confusion-matrix';
import { heatStripSvg, layoutHeatStrip, heatFraction } from '../../src-renderer/src/charts/heat-strip';

describe('line chart', () => {
  const input = {
    series: [
      { name: 'train loss', xs: [0, 1, 2, 3], ys: [2.3, 1.1, 0.6, 0.4] },
      { name: 'test loss', xs: [1, 3], ys: [1.0, 0.5], dashed: true },
    ],
    xLabel: 'step',
    yLabel: 'loss',
    width: 400,
    height: 240,
  };

  it('maps data to pixels inside the plot, y growing downwards', () => {
    const L = layoutLineChart(input);
    const { plot } = L;
    expect(L.xPos(0)).toBeCloseTo(plot.x);
    expect(L.xPos(3)).toBeCloseTo(plot.x + plot.w);
    // Non-negative data starts at zero at the bottom of the plot.
    expect(L.yPos(0)).toBeCloseTo(plot.y + plot.h);
    expect(L.yPos(2.3)).toBeLessThan(L.yPos(0.4));
    expect(L.series[0].last).toMatchObject({ x: 3, y: 0.4 });
    expect(L.invertX(L.xPos(2))).toBeCloseTo(2);
    expect(L.series[0].d.startsWith('M')).toBe(true);
    expect(L.empty).toBe(false);
  });

  it('skips non-finite points and log-scale non-positive ones', () => {
    const L = layoutLineChart({ ...input, series: [{ name: 'a', xs: [0, 1, 2], ys: [1, NaN, 0] }], logY: true });
    expect(L.series[0].last).toMatchObject({ x: 0, y: 1 });
  });

  it('writes a standalone SVG with a legend entry and path per series', () => {
    const svg = lineChartSvg(input, 'dark');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('>train loss<');
    expect(svg).toContain('>test loss<');
    expect(svg).toContain('stroke-dasharray="5 3"');
    expect(svg).toContain('#0d1117'); // dark background
  });

  it('dots sparse series and lone points', () => {
    const L = layoutLineChart({ ...input, series: [{ name: 'epoch', xs: [1, 2], ys: [1, 0.5], markers: true }, { name: 'one', xs: [3], ys: [0.7] }] });
    expect(L.series[0].dots).toHaveLength(2);
    expect(L.series[1].dots).toHaveLength(1);
    expect(L.series[1].dots[0][0]).toBeCloseTo(L.xPos(3), 0);
    expect(lineChartSvg({ ...input, series: [{ name: 'one', xs: [3], ys: [0.7] }] }).match(/<circle /g)).toHaveLength(1);
  });

  it('keeps log-scale ticks readable', () => {
    const L = layoutLineChart({ ...input, logY: true, series: [{ name: 'g', xs: [0, 1, 2], ys: [0.12, 0.5, 0.95] }] });
    expect(L.yTicks.length).toBeLessThanOrEqual(6);
    expect(L.yTicks.map((t) => t.value)).toContain(0.2);
  });

  it('escapes names', () => {
    const svg = lineChartSvg({ ...input, series: [{ name: 'lr <0.1> & "x"', xs: [0, 1], ys: [1, 2] }] });
    expect(svg).toContain('lr &lt;0.1&gt; &amp; &quot;x&quot;');
  });

  it('says when there is no data', () => {
    const L = layoutLineChart({ ...input, series: [] });
    expect(L.empty).toBe(true);
    expect(lineChartSvg({ ...input, series: [] })).toContain('no data yet');
  });
});

describe('confusion matrix', () => {
  it('normalises by row and computes accuracy', () => {
    const counts = [8, 2, 0, 1, 9, 0, 0, 5, 5];
    const L = layoutConfusion({ counts, labels: ['a', 'b', 'c'] });
    expect(L.rowTotals).toEqual([10, 10, 10]);
    expect(L.accuracy).toBeCloseTo(22 / 30);
    const c01 = L.cells.find((c) => c.truth === 0 && c.predicted === 1)!;
    expect(c01.fraction).toBeCloseTo(0.2);
    expect(c01.x).toBeGreaterThan(L.cells.find((c) => c.truth === 0 && c.predicted === 0)!.x);
    const svg = confusionSvg({ counts, labels: ['a', 'b', 'c'] });
    expect(svg.match(/<rect /g)).toHaveLength(1 + 9);
    expect(svg).toContain('accuracy 73.3%');
  });

  it('rejects counts that do not match the labels', () => {
    expect(() => layoutConfusion({ counts: [1, 2, 3], labels: ['a', 'b'] })).toThrow(/3 counts for 2 classes/);
  });
});

describe('heat strip', () => {
  it('fits long rows into the width and clamps values', () => {
    const L = layoutHeatStrip({ rows: [{ label: 'conv1', values: new Float32Array(4096) }], cellsWidth: 512 });
    expect(L.rows[0].cellWidth).toBeCloseTo(512 / 4096);
    expect(heatFraction(2, 1)).toBe(1);
    expect(heatFraction(-1, 1)).toBe(0);
    expect(heatFraction(NaN, 1)).toBe(0);
    const svg = heatStripSvg({ rows: [{ label: 'conv1', values: [0, 0.5, 1] }, { label: 'conv2', values: [1] }] });
    expect(svg.match(/<rect /g)).toHaveLength(1 + 4);
    expect(svg).toContain('>conv1<');
  });
});

describe('run legends', async () => {
  const { differingLabels, flattenConfig } = await import('../../src-renderer/src/lib/config-diff');
  it('names only the settings that differ', () => {
    const a = { model: { id: 'lenet5', overrides: { activation: 'relu' } }, dataset: 'mnist', optimizer: { kind: 'sgd', lr: 0.01 }, batchSize: 128 };
    const b = { model: { id: 'lenet5', overrides: { activation: 'tanh' } }, dataset: 'mnist', optimizer: { kind: 'sgd', lr: 0.01 }, batchSize: 128 };
    const c = { model: { id: 'lenet5', overrides: { activation: 'relu', dropout: 0.2 } }, dataset: 'mnist', optimizer: { kind: 'sgd', lr: 0.1 }, batchSize: 128 };
    expect(flattenConfig(a)).toMatchObject({ model: 'lenet5', activation: 'relu', 'optimizer.lr': '0.01', batchSize: '128' });
    expect(differingLabels([a, b, c])).toEqual([
      'activation=relu, dropout=default, lr=0.01',
      'activation=tanh, dropout=default, lr=0.01',
      'activation=relu, dropout=0.2, lr=0.1',
    ]);
    expect(differingLabels([a, a])).toEqual(['run 1', 'run 2']);
  });
});
