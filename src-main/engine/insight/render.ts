// Images of insight results: a grid of patches (each scaled into an equal cell, nearest neighbour).
import { blankImage, type RgbaImage } from '../inspect/render/image';
import { pixelsToImage } from '../inspect/render/activations';

export interface Patch {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Patches in a grid of `columns` (default: square), each drawn into a cell x cell square, 2 px apart. */
export function patchGrid(patches: readonly Patch[], cell: number, columns = Math.ceil(Math.sqrt(patches.length)), gap = 2): RgbaImage {
  const rows = Math.max(1, Math.ceil(patches.length / columns));
  const image = blankImage(columns * cell + (columns - 1) * gap, rows * cell + (rows - 1) * gap, [255, 255, 255]);
  patches.forEach((p, i) => {
    const tile = pixelsToImage(p.pixels, p.width, p.height, p.channels);
    const scale = cell / Math.max(p.width, p.height);
    const [x0, y0] = [(i % columns) * (cell + gap), Math.floor(i / columns) * (cell + gap)];
    for (let y = 0; y < Math.round(p.height * scale); y++) {
      for (let x = 0; x < Math.round(p.width * scale); x++) {
        const from = (Math.min(p.height - 1, Math.floor(y / scale)) * p.width + Math.min(p.width - 1, Math.floor(x / scale))) * 4;
        image.data.set(tile.data.subarray(from, from + 4), ((y0 + y) * image.width + x0 + x) * 4);
      }
    }
  });
  return image;
}
