// A tensor's distribution over training as TensorBoard draws it: shaded bands between matching
// percentiles of each step's histogram (outermost lightest) and the median as a line; and an overlay
// of the histograms of chosen steps. Pure layout + SVG text, drawn by the Activation health view and by
// `convscope histograms`.
import { scaleLinear } from 'd3';
import { CHART_PALETTE, seriesColour, type ThemeName } from '../theme/colours';
import { LAYOUT } from '../theme/layout';
import { lineChartSvg } from './line-chart';
import { el, escapeXml, r, svgDocument } from './svg';

/** What the charts read of a histogram (engine/train/histograms.ts writes these). */
export interface BinnedValues {
  lo: number;
  hi: number;
  counts: number[];
  under: number;
  over: number;
  count: number;
  min: number;
  max: number;
}

/** TensorBoard's percentiles: the median and the 1, 1.5 and 2 sigma and full ranges of a normal distribution. */
export const BAND_PERCENTILES = [0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100];

/** The p-th percentile (0-100): linear within a bin; under / over lie at min / max. */
export function percentile(h: BinnedValues, p: number): number {
  if (h.count === 0) return NaN;
  const target = (p / 100) * h.count;
  if (target <= h.under) return h.min;
  let seen = h.under;
  const width = (h.hi - h.lo) / h.counts.length;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c > 0 && seen + c >= target) {
      const v = h.lo + width * (i + (target - seen) / c);
      return Math.min(h.max, Math.max(h.min, v));
    }
    seen += c;
  }
  return h.max;
}

export interface DistributionInput {
  steps: number[];
  histograms: BinnedValues[];
  title: string;
  width?: number;
  height?: number;
}

/** Percentile bands over steps as a standalone SVG document. */
export function distributionSvg(input: DistributionInput, theme: ThemeName = 'light'): string {
  const width = input.width ?? LAYOUT.chart.width;
  const height = input.height ?? LAYOUT.chart.height;
  const m = LAYOUT.chart.margin;
  const c = CHART_PALETTE[theme];
  const plot = { x: m.left, y: m.top + 14, w: width - m.left - m.right, h: height - m.top - 14 - m.bottom };
  const rows = input.histograms.map((h) => BAND_PERCENTILES.map((p) => percentile(h, p)));
  const all = rows.flat().filter(Number.isFinite);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const xs = scaleLinear().domain(input.steps.length > 1 ? [input.steps[0], input.steps.at(-1)!] : [0, Math.max(1, input.steps[0] ?? 1)]).range([plot.x, plot.x + plot.w]);
  const ys = scaleLinear().domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]).range([plot.y + plot.h, plot.y]).nice();
  const parts: string[] = [el('rect', { x: 0, y: 0, width, height, fill: c.background })];
  for (const t of ys.ticks(5)) {
    parts.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: r(ys(t)), y2: r(ys(t)), stroke: c.grid }));
    parts.push(el('text', { x: plot.x - 6, y: r(ys(t)), 'text-anchor': 'end', 'dominant-baseline': 'middle', fill: c.muted }, escapeXml(String(+t.toPrecision(3)))));
  }
  for (const t of xs.ticks(Math.max(2, Math.floor(plot.w / 80))).filter(Number.isInteger)) {
    parts.push(el('text', { x: r(xs(t)), y: plot.y + plot.h + 16, 'text-anchor': 'middle', fill: c.muted }, String(t)));
  }
  const colour = seriesColour(0);
  const n = BAND_PERCENTILES.length;
  // Bands (i, n-1-i) from the outside in, each drawn over the last.
  for (let i = 0; i < (n - 1) / 2; i++) {
    const top = rows.map((row, k) => `${r(xs(input.steps[k]))},${r(ys(row[n - 1 - i]))}`);
    const bottom = rows.map((row, k) => `${r(xs(input.steps[k]))},${r(ys(row[i]))}`).reverse();
    if (rows.length > 1) parts.push(el('path', { d: `M${[...top, ...bottom].join('L')}Z`, fill: colour, 'fill-opacity': 0.15 + 0.15 * i, stroke: 'none' }));
  }
  const median = rows.map((row, k) => `${r(xs(input.steps[k]))},${r(ys(row[(n - 1) / 2]))}`);
  if (rows.length > 1) parts.push(el('path', { d: `M${median.join('L')}`, fill: 'none', stroke: colour, 'stroke-width': 1.8 }));
  else for (const [k, row] of rows.entries()) parts.push(el('circle', { cx: r(xs(input.steps[k])), cy: r(ys(row[(n - 1) / 2])), r: 3, fill: colour }));
  parts.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: plot.y + plot.h, y2: plot.y + plot.h, stroke: c.axis }));
  parts.push(el('line', { x1: plot.x, x2: plot.x, y1: plot.y, y2: plot.y + plot.h, stroke: c.axis }));
  parts.push(el('text', { x: plot.x, y: m.top + 4, fill: c.text }, escapeXml(input.title)));
  parts.push(el('text', { x: plot.x + plot.w / 2, y: height - 6, 'text-anchor': 'middle', fill: c.text }, 'step'));
  if (rows.length === 0) parts.push(el('text', { x: plot.x + plot.w / 2, y: plot.y + plot.h / 2, 'text-anchor': 'middle', fill: c.muted }, 'no histograms yet'));
  const label = `${input.title}: percentile bands (0, 7, 16, 31, 50, 69, 84, 93, 100) over ${rows.length} steps`;
  return svgDocument(width, height, parts.join(''), label);
}

/** The histograms of chosen steps over one another: the share of the values in each bin. */
export function overlaySvg(input: { steps: number[]; histograms: BinnedValues[]; title: string; width?: number; height?: number }, theme: ThemeName = 'light'): string {
  return lineChartSvg(
    {
      series: input.histograms.map((h, i) => {
        const w = (h.hi - h.lo) / h.counts.length;
        return { name: `step ${input.steps[i]}`, xs: h.counts.map((_, b) => h.lo + w * (b + 0.5)), ys: h.counts.map((c) => c / Math.max(1, h.count)) };
      }),
      xLabel: 'value',
      yLabel: 'share of values',
      title: input.title,
      width: input.width,
      height: input.height,
    },
    theme,
  );
}
