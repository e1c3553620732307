// Opens config.dataset through the data module and serves it to the trainer: the first `limit` examples,
// a held-out split (the dataset's test split, else a seeded 10% of the training examples), pixels turned
// into the model's input by the fitted (or, on resume, the stored) preprocessor.
// Folder images stored larger than the input (config.storedSize, or any augmentation) are served as
// patches (patches.ts): training batches crop as config.augment says, evaluation takes the centre crop.
import { tf } from '../tf';
import type { ModelSpec } from '../models';
import { Augmenter, fitColourPca } from '../data/augment';
import { limit, splitValidation, type DataSplit } from '../data/dataset';
import { shorterSideFor } from '../data/folder';
import { adaptToInput, computePreprocessor, parsePreprocessor, preprocessBatch, type Preprocessor } from '../data/preprocess';
import { folderOfId, openDataset } from '../data/registry';
import type { AugmentKind, TrainConfig } from './config';
import { TrainConfigError } from './errors';
import { PatchMaker } from './patches';
import { createRandom, type RngState } from './rng';
import { deriveSeed } from './seeds';
import type { AugmentRandom, TrainData, TrainSplit } from './train-data';

/** The paper's standard deviation of the PCA colour jitter's alpha_i. */
export const PAPER_PCA_STD = 0.1;
/** Mixed into the run seed for the augmentation's random stream ('augm'). */
const AUGMENT_STREAM = 0x6175676d;

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
  /** Folders: the side S the images are stored at (the model's input when no larger). */
  storedSize?: number;
}

export interface PreparedData {
  data: TrainData;
  /** The fitted preprocessor as data (the run folder's preprocess.json). */
  preprocess: unknown;
  /** Things the user should know (files that could not be read, ...). */
  warnings: string[];
  /** What was opened (the run folder's dataset.json); absent for in-memory data. */
  dataset?: DatasetRecord;
  /** The stored examples behind data.train and data.test, in the same order (absent for in-memory data). */
  stored?: { train: DataSplit; test: DataSplit | null };
}

/** S for a folder dataset: config.storedSize, else the input side without augmentation, else the paper's ratio. */
export function storedSizeFor(config: Pick<TrainConfig, 'augment' | 'storedSize'>, side: number): number {
  return config.storedSize ?? (config.augment === 'none' ? side : shorterSideFor(side));
}

export async function openTrainData(config: TrainConfig, spec: ModelSpec, storedPreprocess?: unknown): Promise<PreparedData> {
  const [height, width, channels] = spec.input;
  const side = Math.max(height, width);
  const isFolder = folderOfId(config.dataset) !== null;
  // Other datasets are stored at their own size (validateConfig refuses augmenting them for training;
  // evaluating a folder run's model on them just ignores the setting).
  const augment: AugmentKind = isFolder ? config.augment : 'none';
  const storedSize = isFolder ? storedSizeFor(config, side) : side;
  const folderChannels = channels === 1 ? 1 : 3;
  if (augment === 'paper' && folderChannels !== 3) {
    throw new TrainConfigError(`augmentation 'paper' (PCA colour jitter) needs RGB images; ${spec.id} takes ${channels}-channel input (use crop-mirror)`);
  }
  const opened = await openDataset(config.dataset, {
    // Folder images are stored at S (shorter side scaled, centre S x S crop); without a val/test folder a
    // stratified, seeded 10% of each class is held out.
    folder: { inputSize: side, storedSize, channels: folderChannels, testFraction: VALIDATION_FRACTION, splitSeed: config.seed },
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
  const cropping = isFolder && (augment !== 'none' || storedSize !== side);
  const served = cropping ? servePatches(train, heldOut, preprocessor, spec, augment, config.seed) : servePlain(train, heldOut, preprocessor, spec);
  return {
    data: { classes: dataset.classNames.length, ...served },
    preprocess: preprocessor,
    warnings: [...dataset.warnings],
    stored: { train, test: heldOut },
    dataset: {
      id: dataset.id,
      title: dataset.title,
      source: dataset.source,
      classNames: [...dataset.classNames],
      trainExamples: train.count,
      heldOutExamples: heldOut?.count ?? 0,
      heldOut: kind,
      ...(isFolder ? { storedSize } : {}),
    },
  };
}

type Served = Pick<TrainData, 'train' | 'test' | 'augment'>;

/** Whole stored images, preprocessed (and resized where the model's input differs). */
function servePlain(train: DataSplit, heldOut: DataSplit | null, preprocessor: Preprocessor, spec: ModelSpec): Served {
  const serve = (split: DataSplit): TrainSplit => ({
    size: split.count,
    async batch(indices) {
      const examples = await split.read(indices);
      return tf.tidy(() => ({ x: preprocessBatch(preprocessor, examples, spec.input), labels: tf.tensor1d(examples.labels, 'int32') }));
    },
  });
  return { train: serve(train), test: heldOut && serve(heldOut) };
}

/** Input-size patches of larger stored images: `augment` for training batches, centre crops otherwise. */
function servePatches(train: DataSplit, heldOut: DataSplit | null, preprocessor: Preprocessor, spec: ModelSpec, augment: AugmentKind, seed: number): Served {
  // A square patch of the input's larger side (<= S), resized like servePlain's images when the input is not square.
  const size = Math.max(spec.input[0], spec.input[1]);
  const maker = new PatchMaker(preprocessor, train.shape);
  const centre = new Augmenter({ size, random: false, mirror: false, pca: null, pcaStd: PAPER_PCA_STD }, 0);
  // The training augmenter is made on the first training batch: PCA jitter needs a pass over the training
  // images, which evaluation-only users of this data (inspection) should not pay for. Until then its
  // random state waits here (a resume may set it first).
  let state: RngState = createRandom(deriveSeed(seed, AUGMENT_STREAM)).getState();
  let trainer: Augmenter | null = null;
  let making: Promise<Augmenter> | null = null;
  const trainAugmenter = (): Promise<Augmenter> =>
    (making ??= (async () => {
      const pca = augment === 'paper' ? await fitColourPca(train) : null;
      trainer = new Augmenter({ size, random: augment !== 'none', mirror: augment !== 'none', pca, pcaStd: PAPER_PCA_STD }, state);
      return trainer;
    })());
  const serve = (split: DataSplit): TrainSplit => ({
    size: split.count,
    async batch(indices, mode = 'eval') {
      const augmenter = mode === 'train' && split === train ? await trainAugmenter() : centre;
      const examples = await split.read(indices);
      const values = maker.patches(examples, augmenter);
      return tf.tidy(() => {
        const x = tf.tensor4d(values, [examples.count, size, size, train.shape[2]]);
        return { x: adaptToInput(x, spec.input), labels: tf.tensor1d(examples.labels, 'int32') };
      });
    },
  });
  const random: AugmentRandom = {
    getState: () => (trainer ? trainer.getState() : state),
    setState: (s) => {
      if (trainer) trainer.setState(s);
      else state = s;
    },
  };
  return { train: serve(train), test: heldOut && serve(heldOut), ...(augment !== 'none' ? { augment: random } : {}) };
}
