// Opens a dataset by the id runs and the CLI use: 'mnist', 'fashion-mnist' or 'folder:PATH'.
import { DatasetError, type Dataset, type ImageShape } from './dataset';
import { folderOfId } from './folder-id';
import { FASHION_MNIST_CLASS_NAMES, findFashionMnist, openFashionMnist } from './fashion-mnist';
import type { DownloadProgress } from './download';
import { openFolderDataset, type FolderDatasetOptions } from './folder';
import { MNIST_CLASS_NAMES, mnistDataFolder, openMnist } from './mnist';

export { folderOfId };

export type DatasetId = 'mnist' | 'fashion-mnist' | `folder:${string}`;

export interface OpenDatasetOptions {
  /** Cache root for downloaded datasets (default ~/.cache/convscope/datasets, see defaultDatasetCacheDir). */
  cacheDir?: string;
  /** Fashion-MNIST: download it when no local copy is found. Default false. */
  download?: boolean;
  onDownloadProgress?: (progress: DownloadProgress & { file: string }) => void;
  signal?: AbortSignal;
  /** Required for folder: ids (the model's input size decides the stored image size). */
  folder?: FolderDatasetOptions;
}

export interface BuiltinDatasetInfo {
  id: 'mnist' | 'fashion-mnist';
  title: string;
  classNames: readonly string[];
  shape: ImageShape;
  trainCount: number;
  testCount: number;
  /** Where it would be read from now, or null when it is not on this machine. */
  location: string | null;
}

function mnistLocation(): string | null {
  try {
    return mnistDataFolder();
  } catch {
    return null;
  }
}

/** The built-in datasets and whether each is on this machine (for pickers and `convscope` help). */
export function builtinDatasets(options: Pick<OpenDatasetOptions, 'cacheDir'> = {}): BuiltinDatasetInfo[] {
  return [
    { id: 'mnist', title: 'MNIST', classNames: MNIST_CLASS_NAMES, shape: [28, 28, 1], trainCount: 60_000, testCount: 10_000, location: mnistLocation() },
    {
      id: 'fashion-mnist',
      title: 'Fashion-MNIST',
      classNames: FASHION_MNIST_CLASS_NAMES,
      shape: [28, 28, 1],
      trainCount: 60_000,
      testCount: 10_000,
      location: findFashionMnist({ cacheDir: options.cacheDir }),
    },
  ];
}

export async function openDataset(id: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  if (id === 'mnist') return openMnist();
  if (id === 'fashion-mnist') {
    return openFashionMnist({ cacheDir: options.cacheDir, download: options.download, onProgress: options.onDownloadProgress, signal: options.signal });
  }
  const folder = folderOfId(id);
  if (folder !== null) {
    if (!options.folder) throw new DatasetError(`opening ${id} needs the model's input size (folder options)`, 'bad-argument');
    return openFolderDataset(folder, options.folder);
  }
  throw new DatasetError(`unknown dataset '${id}': use mnist, fashion-mnist or folder:PATH (a folder with one sub-folder of images per class)`, 'unknown-dataset');
}
