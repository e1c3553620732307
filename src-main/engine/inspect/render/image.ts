// RGBA images built from arrays, the colour scales they use, and tiling many small images into one.

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major. */
  data: Uint8ClampedArray;
}

export type Rgb = [number, number, number];

export function blankImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = fill[0];
    data[i + 1] = fill[1];
    data[i + 2] = fill[2];
    data[i + 3] = 255;
  }
  return { width, height, data };
}

function gradient(stops: readonly Rgb[]): (t: number) => Rgb {
  return (t) => {
    const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    const [a, b] = [stops[i], stops[i + 1]];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  };
}

/** t in [0, 1] -> colour. */
export const colourScales = {
  grey: (t: number): Rgb => {
    const v = 255 * Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
    return [v, v, v];
  },
  /** Viridis, sampled at 9 stops: for non-negative activations. */
  viridis: gradient([
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
  ]),
  /** Blue - white - red, white at 0.5: for signed values (kernels, tanh outputs). */
  diverging: gradient([
    [5, 48, 97],
    [67, 147, 195],
    [247, 247, 247],
    [214, 96, 77],
    [103, 0, 31],
  ]),
  /** Black - red - yellow - white: for saliency and Grad-CAM. */
  heat: gradient([
    [0, 0, 0],
    [120, 0, 0],
    [230, 60, 0],
    [255, 200, 0],
    [255, 255, 255],
  ]),
} as const;

export type ColourScaleName = keyof typeof colourScales;

/** A value range mapped onto a scale; symmetric ranges put 0 at the scale's middle. */
export interface ValueRange {
  lo: number;
  hi: number;
}

export function rangeOf(values: ArrayLike<number>, symmetric: boolean): ValueRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 1 };
  if (symmetric) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return { lo: -m, hi: m };
  }
  return { lo, hi };
}

export function normalise(v: number, range: ValueRange): number {
  const span = range.hi - range.lo;
  return span > 0 ? (v - range.lo) / span : 0.5;
}

/** Copies `tile` into `image` at (x, y), each tile pixel drawn as zoom x zoom image pixels. */
export function blit(image: RgbaImage, x: number, y: number, tileWidth: number, tileHeight: number, zoom: number, colourAt: (tx: number, ty: number) => Rgb): void {
  for (let ty = 0; ty < tileHeight; ty++) {
    for (let tx = 0; tx < tileWidth; tx++) {
      const [r, g, b] = colourAt(tx, ty);
      for (let dy = 0; dy < zoom; dy++) {
        let o = ((y + ty * zoom + dy) * image.width + x + tx * zoom) * 4;
        for (let dx = 0; dx < zoom; dx++, o += 4) {
          image.data[o] = r;
          image.data[o + 1] = g;
          image.data[o + 2] = b;
          image.data[o + 3] = 255;
        }
      }
    }
  }
}

/** Where tile i goes in a grid of `columns` tiles of the given size with `gap` pixels between and around them. */
export function gridLayout(count: number, tileWidth: number, tileHeight: number, gap: number, columns = Math.ceil(Math.sqrt(count))) {
  const cols = Math.max(1, Math.min(columns, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  return {
    width: cols * tileWidth + (cols + 1) * gap,
    height: rows * tileHeight + (rows + 1) * gap,
    at: (i: number) => ({ x: gap + (i % cols) * (tileWidth + gap), y: gap + Math.floor(i / cols) * (tileHeight + gap) }),
  };
}
