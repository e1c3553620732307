// Images of what a layer computed for one input: feature-map grids, heatmaps, and a heatmap over the input.
import type { Heatmap } from '../gradients';
import { blankImage, blit, colourScales, gridLayout, normalise, rangeOf, type RgbaImage, type Rgb } from './image';

export interface ActivationImageOptions {
  /** Tile pixels per activation value (default: maps of about 48 pixels). */
  zoom?: number;
  gap?: number;
  /** 'shared' (default): one range for the layer; 'per-channel': each map stretched to its own range. */
  scale?: 'shared' | 'per-channel';
}

/**
 * A layer's output ([h, w, c]: one tile per channel; [units]: one cell per unit in a square grid).
 * Non-negative outputs use viridis from 0 to max (0 stays dark), signed ones a diverging scale about 0.
 */
export function renderActivation(shape: readonly number[], values: Float32Array, options: ActivationImageOptions = {}): RgbaImage {
  const gap = options.gap ?? 1;
  const whole = rangeOf(values, false);
  const signed = whole.lo < 0;
  const scale = signed ? colourScales.diverging : colourScales.viridis;
  const toRange = (r: { lo: number; hi: number }) => (signed ? rangeOf([r.lo, r.hi], true) : { lo: 0, hi: r.hi });
  if (shape.length !== 3) {
    const n = values.length;
    const columns = Math.ceil(Math.sqrt(n));
    const zoom = options.zoom ?? Math.max(1, Math.floor(256 / columns));
    const rows = Math.ceil(n / columns);
    const image = blankImage(columns * zoom + 2 * gap, rows * zoom + 2 * gap, [40, 40, 40]);
    const range = toRange(whole);
    blit(image, gap, gap, columns, rows, zoom, (x, y) => {
      const i = y * columns + x;
      return i < n ? scale(normalise(values[i], range)) : [40, 40, 40];
    });
    return image;
  }
  const [h, w, c] = shape;
  const zoom = options.zoom ?? Math.max(1, Math.floor(48 / Math.max(h, w)));
  const grid = gridLayout(c, w * zoom, h * zoom, gap);
  const image = blankImage(grid.width, grid.height, [40, 40, 40]);
  const shared = toRange(whole);
  for (let ch = 0; ch < c; ch++) {
    const range = options.scale === 'per-channel' ? toRange(rangeOf(channel(values, c, ch), false)) : shared;
    const { x, y } = grid.at(ch);
    blit(image, x, y, w, h, zoom, (tx, ty) => scale(normalise(values[(ty * w + tx) * c + ch], range)));
  }
  return image;
}

function channel(values: Float32Array, channels: number, ch: number): Float32Array {
  const out = new Float32Array(values.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = values[i * channels + ch];
  return out;
}

/** A heatmap from 0 to its maximum (saliency, Grad-CAM). */
export function renderHeatmap(map: Heatmap, zoom = 1): RgbaImage {
  const range = { lo: 0, hi: rangeOf(map.values, false).hi };
  const image = blankImage(map.width * zoom, map.height * zoom);
  blit(image, 0, 0, map.width, map.height, zoom, (x, y) => colourScales.heat(normalise(map.values[y * map.width + x], range)));
  return image;
}

/** Pixels (uint8, 1, 3 or 4 channels, row-major) as an RGBA image. */
export function pixelsToImage(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const [r, g, b] = channels >= 3 ? [pixels[p], pixels[p + 1], pixels[p + 2]] : [pixels[p], pixels[p], pixels[p]];
    data.set([r, g, b, 255], i * 4);
  }
  return { width, height, data };
}

/** The heatmap (same size as the image) over the image: its colour shows in proportion to its value. */
export function overlayHeatmap(base: RgbaImage, map: Heatmap, opacity = 0.7): RgbaImage {
  if (map.width !== base.width || map.height !== base.height) {
    throw new Error(`overlayHeatmap: heatmap ${map.width}x${map.height} does not match the image ${base.width}x${base.height}`);
  }
  const range = { lo: 0, hi: rangeOf(map.values, false).hi };
  const data = new Uint8ClampedArray(base.data);
  for (let i = 0; i < map.values.length; i++) {
    const t = Math.min(1, Math.max(0, normalise(map.values[i], range)));
    const heat: Rgb = colourScales.heat(0.25 + 0.75 * t);
    const a = opacity * t;
    for (let k = 0; k < 3; k++) data[i * 4 + k] = (1 - a) * base.data[i * 4 + k] + a * heat[k];
  }
  return { width: base.width, height: base.height, data };
}
