// A confusion matrix as geometry (rows: true class, columns: predicted), row-normalised colours, and as SVG.
import { CHART_PALETTE, heatColour, textColourOn, type ThemeName } from '../theme/colours';
import { LAYOUT } from '../theme/layout';
import { el, escapeXml, svgDocument } from './svg';

export interface ConfusionInput {
  /** n x n counts, row-major: counts[t * n + p] = examples of true class t predicted as p. */
  counts: ArrayLike<number>;
  labels: string[];
  cell?: number;
  title?: string;
}

export interface ConfusionCell {
  truth: number;
  predicted: number;
  count: number;
  /** count / examples of the true class */
  fraction: number;
  x: number;
  y: number;
}

export interface ConfusionLayout {
  n: number;
  cell: number;
  label: number;
  width: number;
  height: number;
  cells: ConfusionCell[];
  rowTotals: number[];
  accuracy: number;
}

export function layoutConfusion(input: ConfusionInput): ConfusionLayout {
  const n = input.labels.length;
  if (input.counts.length !== n * n) {
    throw new Error(`confusion matrix: ${input.counts.length} counts for ${n} classes (expected ${n * n})`);
  }
  const cell = input.cell ?? LAYOUT.confusion.cell;
  const label = LAYOUT.confusion.label;
  const rowTotals = Array.from({ length: n }, (_, t) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += input.counts[t * n + p];
    return s;
  });
  const cells: ConfusionCell[] = [];
  let correct = 0;
  let total = 0;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const count = input.counts[t * n + p];
      total += count;
      if (t === p) correct += count;
      cells.push({ truth: t, predicted: p, count, fraction: rowTotals[t] > 0 ? count / rowTotals[t] : 0, x: label + p * cell, y: label + t * cell });
    }
  }
  return { n, cell, label, width: label + n * cell + 8, height: label + n * cell + 8, cells, rowTotals, accuracy: total > 0 ? correct / total : 0 };
}

/** Text colour that stays readable (WCAG AA) on a cell's fill, chosen from the fill itself. */
export function cellTextColour(fraction: number, theme: ThemeName): string {
  return textColourOn(heatColour(fraction, theme));
}

export function confusionSvg(input: ConfusionInput, theme: ThemeName = 'light'): string {
  const L = layoutConfusion(input);
  const c = CHART_PALETTE[theme];
  const parts: string[] = [el('rect', { x: 0, y: 0, width: L.width, height: L.height, fill: c.background })];
  input.labels.forEach((name, i) => {
    const mid = L.label + i * L.cell + L.cell / 2;
    parts.push(el('text', { x: L.label - 6, y: mid, 'text-anchor': 'end', 'dominant-baseline': 'middle', fill: c.text }, escapeXml(name)));
    parts.push(el('text', { x: mid, y: L.label - 6, 'text-anchor': 'middle', fill: c.text }, escapeXml(name)));
  });
  for (const k of L.cells) {
    parts.push(el('rect', { x: k.x, y: k.y, width: L.cell - 1, height: L.cell - 1, fill: heatColour(k.fraction, theme) }));
    if (k.count > 0) {
      parts.push(
        el(
          'text',
          { x: k.x + L.cell / 2, y: k.y + L.cell / 2, 'text-anchor': 'middle', 'dominant-baseline': 'middle', 'font-size': 10, fill: cellTextColour(k.fraction, theme) },
          String(k.count),
        ),
      );
    }
  }
  parts.push(el('text', { x: 4, y: 12, fill: c.muted }, 'true \u2193 / predicted \u2192'));
  return svgDocument(L.width, L.height, parts.join(''), input.title ?? `confusion matrix, accuracy ${(L.accuracy * 100).toFixed(1)}%`);
}
