// Opens config.dataset through the data module and serves it to the trainer: the first `limit` examples,
// a held-out split (the dataset's test split, else a seeded 10% of the training examples), pixels turned
// into the model's input by the fitted (or, on resume, the stored) preprocessor.
import { tf } from '../tf';
import type { ModelSpec } from '../models';
import { limit, splitValidation, type DataSplit } from '../data/dataset';
import { computePreprocessor, parsePreprocessor, preprocessBatch, type Preprocessor } from '../data/preprocess';
import { folderOfId, openDataset } from '../data/registry';
import type { TrainConfig } from './config';
import type { TrainData, TrainSplit } from './train-data';

/** Share of the training examples held out when a dataset has no test split. */
export const VALIDATION_FRACTION = 0.1;

export interface DatasetRecord {
  id: string;
  title: string;
  source: string;
  classNames: string[];
  trainExamples: number;
  heldOutExamples: number;
  /** 'test': the dataset's test split; 'validation': held out from the training examples. */
  heldOut: 'test' | 'validation' | 'none';
}

export interface PreparedData {
  data: TrainData;
  /** The fitted preprocessor as data (the run folder's preprocess.json). */
  preprocess: unknown;
  /** Things the user should know (files that could not be read, ...). */
  warnings: string[];
  /** What was opened (the run folder's dataset.json); absent for in-memory data. */
  dataset?: DatasetRecord;
}

export async function openTrainData(config: TrainConfig, spec: ModelSpec, storedPreprocess?: unknown): Promise<PreparedData> {
  const [height, width, channels] = spec.input;
  const side = Math.max(height, width);
  const isFolder = folderOfId(config.dataset) !== null;
  const opened = await openDataset(config.dataset, {
    // Folder images are stored at the model's input size (shorter side scaled, centre crop); without a
    // val/test folder a stratified, seeded 10% of each class is held out.
    folder: { inputSize: side, storedSize: side, channels: channels === 1 ? 1 : 3, testFraction: VALIDATION_FRACTION, splitSeed: config.seed },
  });
  const dataset = limit(opened, config.limit, config.testLimit);
  let train = dataset.train;
  let heldOut: DataSplit | null = dataset.test;
  // A folder's test split is a holdout of its examples unless it has its own val/test folder.
  const ownTestFolder = (opened as { layout?: string }).layout === 'train-test';
  let kind: DatasetRecord['heldOut'] = heldOut ? (isFolder && !ownTestFolder ? 'validation' : 'test') : 'none';
  if (!heldOut && train.count >= 10) {
    ({ train, validation: heldOut } = splitValidation(train, { fraction: VALIDATION_FRACTION, seed: config.seed }));
    kind = 'validation';
  }
  const preprocessor: Preprocessor =
    storedPreprocess !== undefined ? parsePreprocessor(storedPreprocess) : await computePreprocessor(config.preprocess, { id: dataset.id, train });
  const serve = (split: DataSplit): TrainSplit => ({
    size: split.count,
    async batch(indices) {
      const examples = await split.read(indices);
      return tf.tidy(() => ({ x: preprocessBatch(preprocessor, examples, spec.input), labels: tf.tensor1d(examples.labels, 'int32') }));
    },
  });
  return {
    data: { classes: dataset.classNames.length, train: serve(train), test: heldOut && serve(heldOut) },
    preprocess: preprocessor,
    warnings: [...dataset.warnings],
    dataset: {
      id: dataset.id,
      title: dataset.title,
      source: dataset.source,
      classNames: [...dataset.classNames],
      trainExamples: train.count,
      heldOutExamples: heldOut?.count ?? 0,
      heldOut: kind,
    },
  };
}
