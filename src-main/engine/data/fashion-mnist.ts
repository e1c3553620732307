// Fashion-MNIST (Zalando; 60,000 training and 10,000 test articles, 28x28 grey, 10 classes), from a
// local folder of its four IDX files or downloaded from the official location into a cache folder.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetError, inMemorySplit, type Dataset } from './dataset';
import { downloadFile, type DownloadProgress } from './download';
import { readIdxExamples } from './idx';

/** Label order as published in zalandoresearch/fashion-mnist's README. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The official download location (zalandoresearch/fashion-mnist README, "Get the Data"). It is plain HTTP: the md5 check is what protects the files. */
export const FASHION_MNIST_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/**
 * The four files with the MD5 checksums published in the README. Sizes are those the official server
 * sends. Debian's dataset-fashion-mnist recompressed the files (same data, gzip header without the file
 * name), so its copies have other checksums: local copies are checked by their IDX structure instead.
 */
export const FASHION_MNIST_FILES = {
  trainImages: { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', bytes: 26_421_880 },
  trainLabels: { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', bytes: 29_515 },
  testImages: { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', bytes: 4_422_102 },
  testLabels: { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', bytes: 5_148 },
} as const;

type FileKey = keyof typeof FASHION_MNIST_FILES;
const FILE_KEYS = Object.keys(FASHION_MNIST_FILES) as FileKey[];

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEBIAN_FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist';

/** $CONVSCOPE_CACHE_DIR/datasets, else $XDG_CACHE_HOME/convscope/datasets, else ~/.cache/convscope/datasets. */
export function defaultDatasetCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONVSCOPE_CACHE_DIR) return path.join(env.CONVSCOPE_CACHE_DIR, 'datasets');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convscope', 'datasets');
}

export interface FashionMnistOptions {
  /** A folder holding the four files (.gz or inflated); when given, only it is searched. */
  folder?: string;
  /** Cache root; the files live in <cacheDir>/fashion-mnist. Default defaultDatasetCacheDir(). */
  cacheDir?: string;
  /** Download into the cache when no local copy is found. Default false. */
  download?: boolean;
  /** Where to download from (tests use a local server). Default FASHION_MNIST_BASE_URL. */
  baseUrl?: string;
  onProgress?: (progress: DownloadProgress & { file: string }) => void;
  signal?: AbortSignal;
}

/** The file for `key` in `folder`: the .gz name or the same name inflated (without .gz). */
function fileIn(folder: string, key: FileKey): string | null {
  const gz = FASHION_MNIST_FILES[key].name;
  for (const name of [gz, gz.replace(/\.gz$/, '')]) {
    const file = path.join(folder, name);
    if (existsSync(file)) return file;
  }
  return null;
}

function completeIn(folder: string): boolean {
  return FILE_KEYS.every((key) => fileIn(folder, key) !== null);
}

/** The folders searched, in order: the given folder only, or the cache then Debian's folder. */
export function fashionMnistFolders(options: Pick<FashionMnistOptions, 'folder' | 'cacheDir'> = {}): string[] {
  if (options.folder) return [options.folder];
  return [path.join(options.cacheDir ?? defaultDatasetCacheDir(), 'fashion-mnist'), DEBIAN_FASHION_MNIST_FOLDER];
}

/** The first folder that holds all four files, or null. */
export function findFashionMnist(options: Pick<FashionMnistOptions, 'folder' | 'cacheDir'> = {}): string | null {
  return fashionMnistFolders(options).find(completeIn) ?? null;
}

/** Downloads the missing files into <cacheDir>/fashion-mnist (each md5-checked) and returns that folder. */
export async function downloadFashionMnist(options: Omit<FashionMnistOptions, 'folder' | 'download'> = {}): Promise<string> {
  const folder = path.join(options.cacheDir ?? defaultDatasetCacheDir(), 'fashion-mnist');
  const base = options.baseUrl ?? FASHION_MNIST_BASE_URL;
  for (const key of FILE_KEYS) {
    const { name, md5, bytes } = FASHION_MNIST_FILES[key];
    await downloadFile({
      url: new URL(name, base).href,
      dest: path.join(folder, name),
      md5,
      expectedBytes: bytes,
      signal: options.signal,
      onProgress: options.onProgress && ((p) => options.onProgress!({ ...p, file: name })),
    });
  }
  return folder;
}

export async function openFashionMnist(options: FashionMnistOptions = {}): Promise<Dataset> {
  let folder = findFashionMnist(options);
  if (folder === null && options.download && !options.folder) folder = await downloadFashionMnist(options);
  if (folder === null) {
    const looked = fashionMnistFolders(options).join(', ');
    throw new DatasetError(
      `Fashion-MNIST not found (looked in ${looked}). Get it with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu), ` +
        `let ConvScope download it from ${FASHION_MNIST_BASE_URL} into ${path.join(options.cacheDir ?? defaultDatasetCacheDir(), 'fashion-mnist')} (download enabled), ` +
        `or put the four files (${FILE_KEYS.map((k) => FASHION_MNIST_FILES[k].name).join(', ')}) in a folder of your choice`,
      'dataset-missing',
    );
  }
  const at = (key: FileKey) => fileIn(folder, key)!;
  const classes = FASHION_MNIST_CLASS_NAMES.length;
  const [train, test] = await Promise.all([
    readIdxExamples(at('trainImages'), at('trainLabels'), classes),
    readIdxExamples(at('testImages'), at('testLabels'), classes),
  ]);
  if (train.shape.join() !== test.shape.join()) {
    throw new DatasetError(`Fashion-MNIST in ${folder}: training images are ${train.shape.join('x')} but test images ${test.shape.join('x')}`, 'bad-file');
  }
  return {
    id: 'fashion-mnist',
    title: 'Fashion-MNIST',
    classNames: FASHION_MNIST_CLASS_NAMES,
    shape: train.shape,
    train: inMemorySplit(train.images, train.labels, train.shape),
    test: inMemorySplit(test.images, test.labels, test.shape),
    source: folder,
    warnings: [],
  };
}
