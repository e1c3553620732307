// One conv layer's kernels tiled into one image: in colour when they see 3 input channels (as in the
// AlexNet paper's figure 3), else the mean over input channels or one tile per input channel.
import { kernelAt, type KernelArray } from '../kernels';
import { blankImage, blit, colourScales, gridLayout, normalise, rangeOf, type RgbaImage, type ValueRange } from './image';

export type KernelMode = 'rgb' | 'mean' | 'per-input';

export interface KernelImageOptions {
  /** Default: 'rgb' for 3 input channels, else 'mean'. */
  mode?: KernelMode;
  /** 'shared': one scale for the whole layer (compare kernels); 'per-kernel': each stretched to its own range. */
  scale?: 'shared' | 'per-kernel';
  /** A fixed range instead (e.g. the same across a timeline's frames); overrides `scale`. */
  range?: ValueRange;
  /** Image pixels per kernel weight (default: tiles of about 32 pixels; 1 for per-input). */
  zoom?: number;
  /** Pixels between tiles (default 1). */
  gap?: number;
  /** Tiles per row ('per-input': always the input channel count). */
  columns?: number;
}

const GAP_COLOUR: [number, number, number] = [40, 40, 40];

export function defaultKernelMode(k: KernelArray): KernelMode {
  return k.shape[2] === 3 ? 'rgb' : 'mean';
}

/**
 * RGB mode maps [lo, hi] of the range to 0..255 in each channel (min-max, like the paper's figure); the
 * single-channel modes use a diverging scale with white at zero over a range symmetric about zero.
 */
export function renderKernels(k: KernelArray, options: KernelImageOptions = {}): RgbaImage {
  const [kh, kw, cin, cout] = k.shape;
  const mode = options.mode ?? defaultKernelMode(k);
  if (mode === 'rgb' && cin !== 3) throw new Error(`renderKernels: rgb mode needs 3 input channels, ${k.name} has ${cin}`);
  const gap = options.gap ?? 1;
  const zoom = options.zoom ?? (mode === 'per-input' ? 1 : Math.max(1, Math.ceil(32 / Math.max(kh, kw))));
  const tiles = mode === 'per-input' ? cout * cin : cout;
  const columns = mode === 'per-input' ? cin : options.columns;
  const grid = gridLayout(tiles, kw * zoom, kh * zoom, gap, columns);
  const image = blankImage(grid.width, grid.height, GAP_COLOUR);
  const symmetric = mode !== 'rgb';
  const value = mode === 'mean' ? meanOverInputs(k) : (y: number, x: number, c: number, f: number) => kernelAt(k, y, x, c, f);
  const sharedRange = options.range ?? (options.scale === 'per-kernel' ? null : kernelRange(k, mode));

  for (let f = 0; f < cout; f++) {
    const range = sharedRange ?? rangeOf(filterValues(k, f, mode === 'mean' ? value : null), symmetric);
    if (mode === 'rgb') {
      const { x, y } = grid.at(f);
      blit(image, x, y, kw, kh, zoom, (tx, ty) => [0, 1, 2].map((c) => 255 * clamp01(normalise(value(ty, tx, c, f), range))) as [number, number, number]);
    } else if (mode === 'mean') {
      const { x, y } = grid.at(f);
      blit(image, x, y, kw, kh, zoom, (tx, ty) => colourScales.diverging(normalise(value(ty, tx, 0, f), range)));
    } else {
      for (let c = 0; c < cin; c++) {
        const { x, y } = grid.at(f * cin + c);
        blit(image, x, y, kw, kh, zoom, (tx, ty) => colourScales.diverging(normalise(value(ty, tx, c, f), range)));
      }
    }
  }
  return image;
}

/** The range a shared scale uses for this layer in this mode (min-max for rgb, symmetric about 0 otherwise). */
export function kernelRange(k: KernelArray, mode: KernelMode = defaultKernelMode(k)): ValueRange {
  return rangeOf(mode === 'mean' ? meanValues(k) : k.values, mode !== 'rgb');
}

function clamp01(t: number): number {
  return Math.min(1, Math.max(0, t));
}

/** value(y, x, 0, f) = mean over input channels. */
function meanOverInputs(k: KernelArray) {
  const cin = k.shape[2];
  return (y: number, x: number, _c: number, f: number) => {
    let s = 0;
    for (let c = 0; c < cin; c++) s += kernelAt(k, y, x, c, f);
    return s / cin;
  };
}

function meanValues(k: KernelArray): number[] {
  const [kh, kw, , cout] = k.shape;
  const mean = meanOverInputs(k);
  const out: number[] = [];
  for (let f = 0; f < cout; f++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out.push(mean(y, x, 0, f));
  return out;
}

/** The values of filter f (or of its channel mean when `mean` is given). */
function filterValues(k: KernelArray, f: number, mean: ((y: number, x: number, c: number, f: number) => number) | null): number[] {
  const [kh, kw, cin] = k.shape;
  const out: number[] = [];
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      if (mean) out.push(mean(y, x, 0, f));
      else for (let c = 0; c < cin; c++) out.push(kernelAt(k, y, x, c, f));
    }
  }
  return out;
}
