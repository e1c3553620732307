// A dataset split opened for a model the way evaluate opens it, for the insight passes (top patches,
// feature vectors): preprocessed batches and the stored pixels behind them, numbered alike.
import type { Split } from '../../contract/inspect';
import type { DataSplit } from '../data/dataset';
import { InsightCache } from '../insight/cache';
import { cachedFeatureVectors, defaultFeatureLayer, type FeatureOptions, type FeatureSet } from '../insight/features';
import { classLabel } from '../inspect/predictions';
import type { TrainSplit } from '../train/train-data';
import { openData, type DataModel } from './evaluate';
import { userError } from './errors';

export interface ModelSplit {
  /** The dataset's id ('mnist', 'folder:/abs/path' ...). */
  dataset: string;
  split: Split;
  served: TrainSplit;
  stored: DataSplit;
  classNames: string[];
}

export async function openModelSplit(m: DataModel & { classNames: readonly string[] | null }, dataset: string | undefined, split: Split): Promise<ModelSplit> {
  const { prepared, id } = await openData(m, dataset);
  const served = split === 'test' ? prepared.data.test : prepared.data.train;
  const stored = split === 'test' ? prepared.stored?.test : prepared.stored?.train;
  if (!served || !stored) throw userError(`${id} has no ${split} examples`, 'no-test-split');
  const names = prepared.dataset?.classNames ?? m.classNames;
  return { dataset: id, split, served, stored, classNames: Array.from({ length: prepared.data.classes }, (_, i) => classLabel(i, names)) };
}

/** A split's feature vectors at a layer (default the last hidden one), cached by model weights. */
export async function splitFeatures(
  m: DataModel & { classNames: readonly string[] | null },
  data: ModelSplit,
  layer: string | undefined,
  options: FeatureOptions & { cache?: InsightCache } = {},
): Promise<FeatureSet & { cached: boolean }> {
  const chosen = layer ?? defaultFeatureLayer(m.model);
  return cachedFeatureVectors(m.model, chosen, data.served, { cache: options.cache ?? new InsightCache(), dataset: data.dataset, split: data.split, preprocess: m.preprocessor }, options);
}
