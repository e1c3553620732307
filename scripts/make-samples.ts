// Writes resources/samples/: the first test image of each MNIST digit and of three Fashion-MNIST
// classes, as grey PNGs at their 28x28 size (the images the app opens on). Run:
//   npx tsx scripts/make-samples.ts
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { openMnist } from '../src-main/engine/data/mnist';
import { openFashionMnist } from '../src-main/engine/data/fashion-mnist';
import type { Dataset } from '../src-main/engine/data/dataset';
import { resourcesDir } from '../src-main/engine/paths';

const out = path.join(resourcesDir(), 'samples');

async function firstOfEach(dataset: Dataset, prefix: string, classes: number[]): Promise<string[]> {
  const test = dataset.test!;
  const all = await test.read(Array.from({ length: 1000 }, (_, i) => i));
  const [h, w] = dataset.shape;
  const written: string[] = [];
  for (const c of classes) {
    const index = all.labels.indexOf(c);
    const pixels = all.images.subarray(index * h * w, (index + 1) * h * w);
    const name = `${prefix}-${dataset.classNames[c].toLowerCase().replace(/[^a-z0-9]+/g, '-')}-test${index}.png`;
    await writeFile(path.join(out, name), await sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer());
    written.push(name);
  }
  return written;
}

await mkdir(out, { recursive: true });
const names = [
  ...(await firstOfEach(await openMnist(), 'mnist', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
  ...(await firstOfEach(await openFashionMnist(), 'fashion', [0, 7, 9])),
];
console.log(names.join('\n'));
