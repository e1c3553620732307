// RGBA images to PNG with sharp (its libvips ships inside the npm package).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { RgbaImage } from './image';

export async function encodePng(image: RgbaImage): Promise<Buffer> {
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(raw, { raw: { width: image.width, height: image.height, channels: 4 } }).png().toBuffer();
}

/** Writes the PNG (parent folders created); returns the path. */
export async function writePng(file: string, image: RgbaImage): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await encodePng(image));
  return file;
}
