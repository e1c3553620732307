// An inspection as PNG files: the input, each layer's activation grid, the conv kernels, and each attribution
// map: <method>.png (the CAM methods' overlaid on the input, with their map at the layer's resolution beside
// as <method>-<layer>-map.png; the pixel-level methods' as a heatmap).
import path from 'node:path';
import sharp from 'sharp';
import type { Inspection } from '../inspect';
import type { KernelArray } from '../kernels';
import { overlayHeatmap, pixelsToImage, renderActivation, renderHeatmap } from './activations';
import type { RgbaImage } from './image';
import { renderKernels } from './kernels';
import { writePng } from './png';

/** Nearest-neighbour enlargement by a whole factor (small maps stay crisp). */
export function enlarge(image: RgbaImage, factor: number): RgbaImage {
  if (factor <= 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / factor) * image.width + Math.floor(x / factor)) * 4;
      data.set(image.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Enlarged by the whole factor that brings its longer side to at least `min` pixels. */
export function enlargeTo(image: RgbaImage, min: number): RgbaImage {
  return enlarge(image, Math.max(1, Math.ceil(min / Math.max(image.width, image.height))));
}

/** The decoded input as an RGBA image of the model's input size (resized when the model resizes its data). */
export async function inputImage(inspection: Inspection): Promise<RgbaImage> {
  const { pixels, pixelShape, width, height } = inspection.input;
  const [ph, pw, pc] = pixelShape;
  const image = pixelsToImage(pixels, pw, ph, pc);
  if (ph === height && pw === width) return image;
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const resized = await sharp(raw, { raw: { width: pw, height: ph, channels: 4 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return { width, height, data: new Uint8ClampedArray(resized.buffer, resized.byteOffset, resized.byteLength) };
}

export interface WriteOptions {
  /** Only this layer's activation grid (default: every layer). */
  layer?: string;
  /** Conv kernels to draw beside the activations. */
  kernels?: KernelArray[];
}

/** Writes the PNGs under `dir`; returns the files written. */
export async function writeInspectionPngs(inspection: Inspection, dir: string, options: WriteOptions = {}): Promise<string[]> {
  const files: string[] = [];
  const put = async (name: string, image: RgbaImage, min = 256) => files.push(await writePng(path.join(dir, name), enlargeTo(image, min)));
  const input = await inputImage(inspection);
  await put('input.png', input);
  const layers = options.layer === undefined ? inspection.layers : inspection.layers.filter((l) => l.name === options.layer);
  for (const [i, layer] of layers.entries()) {
    const index = String(options.layer === undefined ? i + 1 : inspection.layers.indexOf(layer) + 1).padStart(2, '0');
    await put(`activations/${index}-${safe(layer.name)}.png`, renderActivation(layer.shape, layer.values), 128);
  }
  for (const k of options.kernels ?? []) await put(`kernels/${safe(k.name)}.png`, renderKernels(k), 128);
  for (const a of inspection.attributions ?? []) {
    if (a.coarse && a.layer !== undefined) {
      await put(`${a.method}.png`, overlayHeatmap(input, a));
      await put(`${a.method}-${safe(a.layer)}-map.png`, renderHeatmap(a.coarse));
    } else {
      await put(`${a.method}.png`, renderHeatmap(a));
    }
  }
  return files;
}

/** A layer name as a file name (tfjs names are already safe; names from other tools may not be). */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.@:-]/g, '_').replace(/:/g, '-');
}
