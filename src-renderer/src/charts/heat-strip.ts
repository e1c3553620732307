// A heat strip: one row per layer, one cell per channel (or per step), value in [0, max] -> colour.
// Laid out as geometry; HeatStrip.svelte paints rows on canvas, heatStripSvg writes rects for reports.
import { CHART_PALETTE, heatColour, type ThemeName } from '../theme/colours';
import { LAYOUT } from '../theme/layout';
import { el, escapeXml, r, svgDocument } from './svg';

export interface HeatRow {
  label: string;
  values: ArrayLike<number>;
}

export interface HeatStripInput {
  rows: HeatRow[];
  /** Values are divided by this (default: 1, i.e. fractions). */
  max?: number;
  /** Total width of the cells area; cells shrink to fit. */
  cellsWidth?: number;
  title?: string;
  /** What one cell is, for the legend ('channel', 'step'). */
  cellName?: string;
}

export interface HeatStripLayout {
  width: number;
  height: number;
  labelWidth: number;
  rowHeight: number;
  rows: { label: string; y: number; cellWidth: number; values: ArrayLike<number> }[];
  max: number;
}

export function layoutHeatStrip(input: HeatStripInput): HeatStripLayout {
  const { labelWidth, rowHeight, cellWidth } = LAYOUT.heatStrip;
  const longest = Math.max(1, ...input.rows.map((row) => row.values.length));
  const cellsWidth = input.cellsWidth ?? Math.min(640, longest * cellWidth);
  const rows = input.rows.map((row, i) => ({
    label: row.label,
    y: i * (rowHeight + 4),
    cellWidth: row.values.length > 0 ? Math.min(cellWidth, cellsWidth / row.values.length) : cellWidth,
    values: row.values,
  }));
  return {
    width: labelWidth + cellsWidth,
    height: rows.length * (rowHeight + 4) + 24,
    labelWidth,
    rowHeight,
    rows,
    max: input.max ?? 1,
  };
}

/** Fraction in [0, 1] of one cell's value. */
export function heatFraction(v: number, max: number): number {
  return Number.isFinite(v) && max > 0 ? Math.max(0, Math.min(1, v / max)) : 0;
}

export function heatStripSvg(input: HeatStripInput, theme: ThemeName = 'light'): string {
  const L = layoutHeatStrip(input);
  const c = CHART_PALETTE[theme];
  const parts: string[] = [el('rect', { x: 0, y: 0, width: L.width, height: L.height, fill: c.background })];
  for (const row of L.rows) {
    parts.push(el('text', { x: L.labelWidth - 6, y: row.y + L.rowHeight / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', fill: c.text }, escapeXml(row.label)));
    for (let i = 0; i < row.values.length; i++) {
      parts.push(
        el('rect', {
          x: r(L.labelWidth + i * row.cellWidth),
          y: row.y,
          width: r(Math.max(row.cellWidth, 0.5)),
          height: L.rowHeight,
          fill: heatColour(heatFraction(row.values[i], L.max), theme),
        }),
      );
    }
  }
  const legendY = L.height - 8;
  parts.push(el('text', { x: L.labelWidth, y: legendY, fill: c.muted }, escapeXml(`one cell per ${input.cellName ?? 'channel'}; light = 0, dark = ${L.max}`)));
  return svgDocument(L.width, L.height, parts.join(''), input.title ?? 'heat strip');
}
