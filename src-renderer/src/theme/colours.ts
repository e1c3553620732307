// Every colour the renderer paints with, in one place: scales for activations and kernels, layer-kind
// colours, chart series, and the two themes' chart palettes. Pure (d3 scales only), so the report
// writer can use the same colours in Node.
import { interpolateRdBu, interpolateBlues, interpolateInferno, schemeTableau10, scaleSequential, scaleDiverging, rgb } from 'd3';

export type Rgb = [number, number, number];
export type ThemeName = 'light' | 'dark';

/** How an activation map's colour range is chosen. */
export type RangeMode = 'local' | 'layer' | 'global';

/** A value-to-colour function for dense pixel data, with the domain it was made for. */
export interface PixelScale {
  kind: 'diverging' | 'sequential';
  domain: [number, number];
  /** Writes the colour of v into out (0-255 each). */
  rgb(v: number, out: Rgb): void;
  /** CSS colour of v (for legends). */
  css(v: number): string;
}

function lookupTable(interpolate: (t: number) => string, n = 256): Uint8Array {
  const lut = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = rgb(interpolate(i / (n - 1)));
    lut[i * 3] = c.r;
    lut[i * 3 + 1] = c.g;
    lut[i * 3 + 2] = c.b;
  }
  return lut;
}

// Diverging: negative red, zero white, positive blue (as CNN Explainer's maps, which users know).
const DIVERGING_LUT = lookupTable((t) => interpolateRdBu(t));
// Sequential for non-negative data (ReLU outputs): the positive half of the diverging scale, so zero is
// white and a ReLU map reads like the same map before the ReLU.
const SEQUENTIAL_LUT = lookupTable((t) => interpolateRdBu(0.5 + t / 2));
// Overlays (saliency, Grad-CAM) need to stand out over a grey image: a hot scale.
const HOT_LUT = lookupTable((t) => interpolateInferno(0.15 + 0.85 * t));

function fromLut(lut: Uint8Array, t: number, out: Rgb): void {
  const i = Math.max(0, Math.min(255, Math.round(t * 255))) * 3;
  out[0] = lut[i];
  out[1] = lut[i + 1];
  out[2] = lut[i + 2];
}

/** Symmetric diverging scale on [-absMax, absMax]; zero is white. */
export function divergingScale(absMax: number): PixelScale {
  const m = absMax > 0 && Number.isFinite(absMax) ? absMax : 1;
  const css = scaleDiverging(interpolateRdBu).domain([-m, 0, m]);
  return {
    kind: 'diverging',
    domain: [-m, m],
    rgb: (v, out) => fromLut(DIVERGING_LUT, (v / m + 1) / 2, out),
    css: (v) => css(v),
  };
}

/** Sequential scale on [0, max] for non-negative data: zero white, large dark blue. */
export function sequentialScale(max: number): PixelScale {
  const m = max > 0 && Number.isFinite(max) ? max : 1;
  const css = scaleSequential((t: number) => interpolateRdBu(0.5 + t / 2)).domain([0, m]);
  return {
    kind: 'sequential',
    domain: [0, m],
    rgb: (v, out) => fromLut(SEQUENTIAL_LUT, v / m, out),
    css: (v) => css(v),
  };
}

/** Hot scale on [0, max] for heat maps laid over an image (saliency, Grad-CAM). */
export function hotScale(max: number): PixelScale {
  const m = max > 0 && Number.isFinite(max) ? max : 1;
  const css = scaleSequential((t: number) => interpolateInferno(0.15 + 0.85 * t)).domain([0, m]);
  return {
    kind: 'sequential',
    domain: [0, m],
    rgb: (v, out) => fromLut(HOT_LUT, v / m, out),
    css: (v) => css(v),
  };
}

/**
 * Sequential when the data never goes below zero, diverging otherwise. `kindFrom` picks the kind from
 * a wider range (a layer's) while the domain stays this range, so maps of one layer share a kind.
 */
export function scaleFor(min: number, max: number, kindFrom: { min: number } = { min }): PixelScale {
  return kindFrom.min >= 0 ? sequentialScale(max) : divergingScale(Math.max(Math.abs(min), Math.abs(max)));
}

/** Heat strips and confusion matrices: 0 fades into the background, 1 is strong. */
export function heatColour(t: number, theme: ThemeName): string {
  const v = Math.max(0, Math.min(1, t));
  return theme === 'dark' ? interpolateInferno(0.06 + 0.9 * v) : interpolateBlues(0.04 + 0.92 * v);
}

/** WCAG 2 relative luminance of a CSS colour (0 black, 1 white). */
export function relativeLuminance(css: string): number {
  const c = rgb(css);
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/**
 * Black or white, whichever contrasts more with `background`: on any colour the better of the two reaches
 * at least 4.58:1 (WCAG AA asks 4.5:1 for text), so text on every step of a scale stays readable.
 */
export function textColourOn(background: string): '#000000' | '#ffffff' {
  const l = relativeLuminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

/** Layer kinds as the spec names them (conv, maxPool, ...), coloured like Netron's node types. */
export const LAYER_KIND_COLOURS: Record<string, { fill: string; text: string }> = {
  input: { fill: '#6b7280', text: '#ffffff' },
  conv: { fill: '#335c99', text: '#ffffff' },
  maxPool: { fill: '#2f6b3a', text: '#ffffff' },
  avgPool: { fill: '#2f6b3a', text: '#ffffff' },
  lrn: { fill: '#7a4a9e', text: '#ffffff' },
  batchNorm: { fill: '#1f7a7a', text: '#ffffff' },
  activation: { fill: '#8a2f2f', text: '#ffffff' },
  flatten: { fill: '#7a5a3a', text: '#ffffff' },
  dense: { fill: '#b0621a', text: '#ffffff' },
  dropout: { fill: '#5c6370', text: '#ffffff' },
};

export function layerKindColour(kind: string): { fill: string; text: string } {
  return LAYER_KIND_COLOURS[kind] ?? { fill: '#6b7280', text: '#ffffff' };
}

/** Colour of the n-th chart series (runs, train/test). */
export function seriesColour(i: number): string {
  return schemeTableau10[((i % 10) + 10) % 10];
}

/** Chart chrome per theme (axes, grid, text); SVG strings embed these, Svelte uses CSS variables. */
export const CHART_PALETTE: Record<ThemeName, { text: string; muted: string; grid: string; axis: string; background: string }> = {
  light: { text: '#1f2328', muted: '#59636e', grid: '#e4e7eb', axis: '#8c959f', background: '#ffffff' },
  dark: { text: '#e6edf3', muted: '#9198a1', grid: '#30363d', axis: '#6e7681', background: '#0d1117' },
};
