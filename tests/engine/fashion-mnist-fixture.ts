// A tiny Fashion-MNIST in the published format (four gzipped IDX files, 28x28 uint8 images, labels 0-9),
// made on the spot so tests need no Debian package and no download. Each class is a distinct, noisy
// pattern (deterministic), so a recipe trained on it has something to learn.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_FILES } from '../../src-main/engine/data/fashion-mnist';

function idx(dims: number[], values: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, values]);
}

function split(count: number, seed: number): { images: Buffer; labels: Buffer } {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    for (let p = 0; p < 784; p++) {
      const [y, x] = [Math.floor(p / 28), p % 28];
      const on = (label < 5 ? Math.floor(y / (label + 2)) : Math.floor(x / (label - 3))) % 2 === 0;
      images[i * 784 + p] = Math.round((on ? 180 : 40) + next() * 60);
    }
  }
  return { images: idx([count, 28, 28], images), labels: idx([count], labels) };
}

/** Writes the four .gz files into `folder` (created) and returns it. */
export function writeFashionMnistFixture(folder: string, trainCount = 320, testCount = 160): string {
  mkdirSync(folder, { recursive: true });
  const train = split(trainCount, 1);
  const test = split(testCount, 2);
  const write = (file: { name: string }, bytes: Buffer) => writeFileSync(path.join(folder, file.name), gzipSync(bytes));
  write(FASHION_MNIST_FILES.trainImages, train.images);
  write(FASHION_MNIST_FILES.trainLabels, train.labels);
  write(FASHION_MNIST_FILES.testImages, test.images);
  write(FASHION_MNIST_FILES.testLabels, test.labels);
  return folder;
}
