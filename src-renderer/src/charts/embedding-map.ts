// The embedding map's layout: 2-D coordinates fitted into a box (equal scale on both axes, so distances
// keep their meaning), point colours by label or by correctness, and the same map as SVG text for the CLI.
import { CORRECTNESS_COLOURS, classColour, MARK_COLOURS } from '../theme/insight-colours';
import { el, escapeXml, r, svgDocument } from './svg';

export type MapColouring = 'label' | 'correctness';

export interface MapPoints {
  /** count x 2. */
  coords: Float32Array;
  labels: Int32Array;
  predicted: Int32Array;
  classNames: readonly string[];
}

/** Maps data coordinates to pixels in a width x height box with a margin, y up. */
export function fitTransform(coords: Float32Array, width: number, height: number, margin = 12): { x: (v: number) => number; y: (v: number) => number } {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < coords.length; i += 2) {
    x0 = Math.min(x0, coords[i]);
    x1 = Math.max(x1, coords[i]);
    y0 = Math.min(y0, coords[i + 1]);
    y1 = Math.max(y1, coords[i + 1]);
  }
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
  const k = Math.min((width - 2 * margin) / Math.max(x1 - x0, 1e-9), (height - 2 * margin) / Math.max(y1 - y0, 1e-9));
  const cx = (width - k * (x1 - x0)) / 2;
  const cy = (height - k * (y1 - y0)) / 2;
  return { x: (v) => cx + (v - x0) * k, y: (v) => height - cy - (v - y0) * k };
}

export function pointColour(p: MapPoints, i: number, colouring: MapColouring): string {
  if (colouring === 'correctness') return p.predicted[i] === p.labels[i] ? CORRECTNESS_COLOURS.right : CORRECTNESS_COLOURS.wrong;
  return classColour(p.labels[i], p.classNames.length);
}

/** The map as an SVG document with a legend; `mark` (data coordinates) draws a ring at the current image. */
export function embeddingSvg(p: MapPoints, options: { width?: number; height?: number; colouring?: MapColouring; title?: string; mark?: [number, number] } = {}): string {
  const { width = 640, height = 640, colouring = 'label', title = 'embedding map' } = options;
  const legendWidth = 130;
  const t = fitTransform(p.coords, width - legendWidth, height);
  const dots: string[] = [];
  for (let i = 0; i < p.labels.length; i++) dots.push(el('circle', { cx: r(t.x(p.coords[i * 2])), cy: r(t.y(p.coords[i * 2 + 1])), r: 1.6, fill: pointColour(p, i, colouring), 'fill-opacity': 0.7 }));
  const entries =
    colouring === 'label'
      ? p.classNames.map((name, c) => [name, classColour(c, p.classNames.length)] as const)
      : ([['right', CORRECTNESS_COLOURS.right], ['wrong', CORRECTNESS_COLOURS.wrong]] as const);
  const legend = entries
    .map(([name, colour], i) => el('circle', { cx: width - legendWidth + 12, cy: 16 + i * 16, r: 5, fill: colour }) + el('text', { x: width - legendWidth + 22, y: 20 + i * 16 }, escapeXml(name)))
    .join('');
  const mark = options.mark
    ? el('circle', { cx: r(t.x(options.mark[0])), cy: r(t.y(options.mark[1])), r: 7, fill: 'none', stroke: MARK_COLOURS.halo, 'stroke-width': 4 }) +
      el('circle', { cx: r(t.x(options.mark[0])), cy: r(t.y(options.mark[1])), r: 7, fill: 'none', stroke: MARK_COLOURS.ring, 'stroke-width': 2 })
    : '';
  return svgDocument(width, height, el('rect', { width, height, fill: '#ffffff' }) + dots.join('') + mark + legend, title);
}
