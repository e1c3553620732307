// A line chart (loss and accuracy curves, several series, legend) as geometry: laid out once, then drawn
// either by the Svelte wrapper (LineChart.svelte, interactive) or as an SVG string (reports, export).
import { scaleLinear, scaleLog, line, extent, type ScaleContinuousNumeric } from 'd3';
import { CHART_PALETTE, seriesColour, type ThemeName } from '../theme/colours';
import { LAYOUT } from '../theme/layout';
import { el, r, svgDocument, escapeXml } from './svg';

export interface Series {
  name: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  colour?: string;
  dashed?: boolean;
  /** Draw a dot at every point (sparse series such as one value per epoch). */
  markers?: boolean;
}

export interface LineChartInput {
  series: Series[];
  width?: number;
  height?: number;
  xLabel: string;
  yLabel: string;
  title?: string;
  /** Fixed y range, e.g. [0, 1] for accuracy; otherwise from the data. */
  yDomain?: [number, number];
  logY?: boolean;
}

export interface Tick {
  value: number;
  label: string;
  pos: number;
}

export interface LaidOutSeries {
  name: string;
  colour: string;
  dashed: boolean;
  d: string;
  /** Pixel positions of the dots, when the series asks for markers. */
  dots: [number, number][];
  /** The last point, for end labels and live updates. */
  last: { x: number; y: number; px: number; py: number } | null;
}

export interface LineChartLayout {
  width: number;
  height: number;
  plot: { x: number; y: number; w: number; h: number };
  xTicks: Tick[];
  yTicks: Tick[];
  series: LaidOutSeries[];
  legend: { name: string; colour: string; dashed: boolean; x: number; y: number }[];
  xLabel: string;
  yLabel: string;
  title?: string;
  empty: boolean;
  /** Pixel -> data x, and data -> pixel (for hover read-outs). */
  invertX(px: number): number;
  xPos(x: number): number;
  yPos(y: number): number;
}

const tickFormat = (v: number, step: number) => {
  if (step >= 1 && Number.isInteger(v)) return v.toLocaleString('en-US');
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step || 1))));
  return v.toFixed(digits);
};

export function layoutLineChart(input: LineChartInput): LineChartLayout {
  const width = input.width ?? LAYOUT.chart.width;
  const height = input.height ?? LAYOUT.chart.height;
  const m = LAYOUT.chart.margin;
  const series = input.series.filter((s) => s.xs.length > 0);
  // Legend rows above the plot: as many names per row as fit.
  const legend: LineChartLayout['legend'] = [];
  let lx = m.left;
  let ly = m.top;
  for (const [i, s] of input.series.entries()) {
    const w = 28 + 7 * s.name.length;
    if (lx + w > width - m.right && lx > m.left) {
      lx = m.left;
      ly += LAYOUT.chart.legendRow;
    }
    legend.push({ name: s.name, colour: s.colour ?? seriesColour(i), dashed: !!s.dashed, x: lx, y: ly });
    lx += w + 12;
  }
  const top = ly + LAYOUT.chart.legendRow + 4;
  const plot = { x: m.left, y: top, w: Math.max(10, width - m.left - m.right), h: Math.max(10, height - top - m.bottom) };

  const allX: number[] = [];
  const allY: number[] = [];
  for (const s of series) {
    for (let i = 0; i < s.xs.length; i++) {
      if (Number.isFinite(s.ys[i]) && (!input.logY || s.ys[i] > 0)) {
        allX.push(s.xs[i]);
        allY.push(s.ys[i]);
      }
    }
  }
  const [x0, x1] = extent(allX) as [number | undefined, number | undefined];
  const [y0, y1] = extent(allY) as [number | undefined, number | undefined];
  const xs = scaleLinear().domain(x0 === undefined ? [0, 1] : x0 === x1 ? [x0, x0 + 1] : [x0, x1!]).range([plot.x, plot.x + plot.w]);
  let ys: ScaleContinuousNumeric<number, number>;
  if (input.logY) {
    const lo = y0 ?? 0.01;
    const hi = y1 ?? 1;
    ys = scaleLog().domain(lo === hi ? [lo / 2, hi * 2] : [lo, hi]).range([plot.y + plot.h, plot.y]).nice();
  } else {
    // Non-negative data (losses, accuracies) starts at zero so curves compare honestly.
    const dom: [number, number] = input.yDomain ?? (y0 === undefined ? [0, 1] : y0 === y1 ? [y0 - 0.5, y0 + 0.5] : [Math.min(0, y0), y1!]);
    ys = scaleLinear().domain(dom).range([plot.y + plot.h, plot.y]);
    if (!input.yDomain) ys.nice();
  }
  let xt = xs.ticks(Math.max(2, Math.floor(plot.w / 80)));
  // Whole-number data (epochs, steps) gets whole-number ticks.
  if (allX.length > 0 && allX.every(Number.isInteger)) {
    const whole = xt.filter(Number.isInteger);
    xt = whole.length >= 2 ? whole : xs.domain().map(Math.round);
  }
  const xStep = xt.length > 1 ? xt[1] - xt[0] : 1;
  let yt = input.logY ? ys.ticks(4) : ys.ticks(Math.max(2, Math.floor(plot.h / 40)));
  // Log scales tick every 1..9 x 10^k: keep 1, 2 and 5 when that is too many to read.
  if (input.logY && yt.length > 6) yt = yt.filter((v) => [1, 2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9))));
  const yStep = yt.length > 1 ? Math.abs(yt[1] - yt[0]) : 1;

  const laid: LaidOutSeries[] = input.series.map((s, i) => {
    const pts: [number, number][] = [];
    let last: LaidOutSeries['last'] = null;
    for (let k = 0; k < s.xs.length; k++) {
      const y = s.ys[k];
      if (!Number.isFinite(y) || (input.logY && y <= 0)) continue;
      const p: [number, number] = [xs(s.xs[k]), ys(y)];
      pts.push(p);
      last = { x: s.xs[k], y, px: p[0], py: p[1] };
    }
    const d = pts.length > 0 ? (line()(pts.map(([a, b]) => [r(a), r(b)])) ?? '') : '';
    // A lone point draws no line: it gets a dot whatever the series asked.
    const dots = s.markers || pts.length === 1 ? pts.map(([a, b]): [number, number] => [r(a), r(b)]) : [];
    return { name: s.name, colour: s.colour ?? seriesColour(i), dashed: !!s.dashed, d, dots, last };
  });

  return {
    width,
    height,
    plot,
    xTicks: xt.map((v) => ({ value: v, label: tickFormat(v, xStep), pos: xs(v) })),
    yTicks: yt.map((v) => ({ value: v, label: input.logY ? String(+v.toPrecision(2)) : tickFormat(v, yStep), pos: ys(v) })),
    series: laid,
    legend,
    xLabel: input.xLabel,
    yLabel: input.yLabel,
    title: input.title,
    empty: allX.length === 0,
    invertX: (px) => xs.invert(px),
    xPos: (x) => xs(x),
    yPos: (y) => ys(y),
  };
}

/** The chart as a standalone SVG document (no DOM needed). */
export function lineChartSvg(input: LineChartInput, theme: ThemeName = 'light'): string {
  const L = layoutLineChart(input);
  const c = CHART_PALETTE[theme];
  const { plot } = L;
  const parts: string[] = [el('rect', { x: 0, y: 0, width: L.width, height: L.height, fill: c.background })];
  for (const t of L.yTicks) {
    parts.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: r(t.pos), y2: r(t.pos), stroke: c.grid }));
    parts.push(el('text', { x: plot.x - 6, y: r(t.pos), 'text-anchor': 'end', 'dominant-baseline': 'middle', fill: c.muted }, escapeXml(t.label)));
  }
  for (const t of L.xTicks) {
    parts.push(el('line', { x1: r(t.pos), x2: r(t.pos), y1: plot.y + plot.h, y2: plot.y + plot.h + 4, stroke: c.axis }));
    parts.push(el('text', { x: r(t.pos), y: plot.y + plot.h + 16, 'text-anchor': 'middle', fill: c.muted }, escapeXml(t.label)));
  }
  parts.push(el('line', { x1: plot.x, x2: plot.x + plot.w, y1: plot.y + plot.h, y2: plot.y + plot.h, stroke: c.axis }));
  parts.push(el('line', { x1: plot.x, x2: plot.x, y1: plot.y, y2: plot.y + plot.h, stroke: c.axis }));
  parts.push(el('text', { x: plot.x + plot.w / 2, y: L.height - 6, 'text-anchor': 'middle', fill: c.text }, escapeXml(L.xLabel)));
  parts.push(
    el('text', { transform: `translate(14 ${r(plot.y + plot.h / 2)}) rotate(-90)`, 'text-anchor': 'middle', fill: c.text }, escapeXml(L.yLabel)),
  );
  for (const s of L.series) {
    if (!s.d || s.dots.length === 1) continue;
    parts.push(el('path', { d: s.d, fill: 'none', stroke: s.colour, 'stroke-width': 1.8, 'stroke-dasharray': s.dashed ? '5 3' : undefined }));
  }
  for (const s of L.series) for (const [x, y] of s.dots) parts.push(el('circle', { cx: x, cy: y, r: 3, fill: s.colour }));
  for (const g of L.legend) {
    parts.push(el('line', { x1: g.x, x2: g.x + 20, y1: g.y + 6, y2: g.y + 6, stroke: g.colour, 'stroke-width': 2.5, 'stroke-dasharray': g.dashed ? '5 3' : undefined }));
    parts.push(el('text', { x: g.x + 26, y: g.y + 6, 'dominant-baseline': 'middle', fill: c.text }, escapeXml(g.name)));
  }
  if (L.empty) {
    parts.push(el('text', { x: plot.x + plot.w / 2, y: plot.y + plot.h / 2, 'text-anchor': 'middle', fill: c.muted }, 'no data yet'));
  }
  const label = L.title ?? `${L.yLabel} against ${L.xLabel}`;
  return svgDocument(L.width, L.height, parts.join(''), label);
}
