// A training run's configuration: plain data (saved as config.json), its defaults and its checks.
import { MAX_WASM_THREADS } from '../backend/threads';
import type { OptionValue } from '../models/spec';
import { TrainConfigError } from './errors';
import { LOSS_KINDS, type LossKind } from './loss';
import type { OptimizerConfig } from './optimizers';
import type { ScheduleConfig } from './schedule';

export interface TrainConfig {
  model: { id: string; overrides: Record<string, OptionValue> };
  /** 'mnist', 'fashion-mnist' or 'folder:PATH' (as the data registry names datasets). */
  dataset: string;
  /** How pixels are prepared; the fitted preprocessor itself is stored in the run folder. */
  preprocess: string;
  /** The training (and test) loss: 'logits' (exact, the default) or 'keras-clipped' (the notebooks'). */
  loss: LossKind;
  /**
   * Training-time augmentation, folder datasets only: 'none'; 'crop-mirror' (a random input-size crop of
   * the stored image per example per epoch, mirrored left-right half the time); 'paper' (those plus the
   * paper's PCA colour jitter, alpha ~ N(0, 0.1), eigenvalues from the training images). Evaluation
   * always takes the centre crop.
   */
  augment: AugmentKind;
  /**
   * Side S folder images are stored at (shorter side resized to S, centre S x S crop), >= the model's
   * input; null: the input size when augment is 'none', else round(input * 256 / 224) (256 for 224-227).
   */
  storedSize: number | null;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  batchSize: number;
  epochs: number;
  seed: number;
  /** Train on the first N training examples only (null: all). */
  limit: number | null;
  /** Evaluate on the first N test examples only (null: all). */
  testLimit: number | null;
  /** Backend choice as given to initBackend ('auto', 'wasm', 'cpu', ...). */
  backend: string;
  /**
   * Threads of the wasm backend (null: the engine's setting, by default every core). The losses do not
   * depend on it: XNNPACK splits each operation's outputs between threads, never a sum.
   */
  threads: number | null;
  /** Conv-kernel snapshot every N steps (0: only at the start and the end). */
  snapshotEvery: number;
  /** Disk budget of the kernel snapshots. */
  snapshotBudgetBytes: number;
  /** Layer statistics every N steps (0: never). */
  statsEvery: number;
  /** Examples in the fixed probe batch (the first of the test split). */
  probeSize: number;
  /** A checkpoint after every epoch, and after this many seconds of training. */
  checkpointEverySeconds: number;
  /** Also after every N steps (0: not by steps). */
  checkpointEverySteps: number;
  /** Keep the checkpoint before the latest as checkpoint.prev.bin (twice the disk), to resume from if the latest is corrupt. */
  keepPreviousCheckpoint: boolean;
}

export const AUGMENT_KINDS = ['none', 'crop-mirror', 'paper'] as const;
export type AugmentKind = (typeof AUGMENT_KINDS)[number];

export const DEFAULT_LR = { sgd: 0.01, adam: 1e-3 } as const;

export function defaultOptimizer(kind: 'sgd' | 'adam', overrides: { lr?: number; momentum?: number; weightDecay?: number } = {}): OptimizerConfig {
  if (kind === 'sgd') {
    return { kind, lr: overrides.lr ?? DEFAULT_LR.sgd, momentum: overrides.momentum ?? 0.9, weightDecay: overrides.weightDecay ?? 0.0005 };
  }
  return { kind, lr: overrides.lr ?? DEFAULT_LR.adam, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: overrides.weightDecay ?? 0 };
}

/** Defaults chosen so that lenet5 on MNIST passes 0.97 test accuracy in one epoch. */
export function defaultConfig(model: string, dataset: string): TrainConfig {
  return {
    model: { id: model, overrides: {} },
    dataset,
    preprocess: 'scale',
    loss: 'logits',
    augment: 'none',
    storedSize: null,
    optimizer: defaultOptimizer('adam'),
    schedule: { kind: 'constant' },
    batchSize: 64,
    epochs: 1,
    seed: 1,
    limit: null,
    testLimit: null,
    backend: 'auto',
    threads: null,
    snapshotEvery: 100,
    snapshotBudgetBytes: 64 * 2 ** 20,
    statsEvery: 100,
    probeSize: 64,
    checkpointEverySeconds: 300,
    checkpointEverySteps: 0,
    keepPreviousCheckpoint: true,
  };
}

/** Throws TrainConfigError naming the first bad field. */
export function validateConfig(c: TrainConfig): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new TrainConfigError(`${name} must be a whole number >= ${min}, got ${v}`);
  };
  const pos = (name: string, v: number, allowZero = false) => {
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new TrainConfigError(`${name} must be a number ${allowZero ? '>=' : '>'} 0, got ${v}`);
  };
  int('batch size', c.batchSize, 1);
  int('epochs', c.epochs, 1);
  int('seed', c.seed, 0);
  if (c.limit !== null) int('limit', c.limit, 1);
  if (c.testLimit !== null) int('test limit', c.testLimit, 1);
  if (c.threads !== null && !(Number.isInteger(c.threads) && c.threads >= 1 && c.threads <= MAX_WASM_THREADS)) {
    throw new TrainConfigError(`threads must be a whole number from 1 to ${MAX_WASM_THREADS}, got ${c.threads}`);
  }
  int('snapshot interval', c.snapshotEvery, 0);
  int('statistics interval', c.statsEvery, 0);
  int('probe size', c.probeSize, 1);
  int('checkpoint step interval', c.checkpointEverySteps, 0);
  pos('checkpoint interval (seconds)', c.checkpointEverySeconds);
  pos('snapshot budget', c.snapshotBudgetBytes);
  if (!LOSS_KINDS.includes(c.loss)) throw new TrainConfigError(`unknown loss '${c.loss}' (${LOSS_KINDS.join(' or ')})`);
  if (!AUGMENT_KINDS.includes(c.augment)) throw new TrainConfigError(`unknown augmentation '${c.augment}' (${AUGMENT_KINDS.join(', ')})`);
  if (c.storedSize !== null) int('stored image size', c.storedSize, 1);
  if (!c.dataset.startsWith('folder:')) {
    // MNIST-style datasets are stored at the input size: there is nothing to crop from.
    if (c.augment !== 'none') throw new TrainConfigError(`augmentation '${c.augment}' needs a folder: dataset (${c.dataset} images are stored at the model's input size); use augment 'none'`);
    if (c.storedSize !== null) throw new TrainConfigError(`a stored image size applies to folder: datasets only, not ${c.dataset}`);
  }
  const o = c.optimizer;
  pos('learning rate', o.lr);
  pos('weight decay', o.weightDecay, true);
  if (o.kind === 'sgd') {
    if (!(o.momentum >= 0 && o.momentum < 1)) throw new TrainConfigError(`momentum must be in [0, 1), got ${o.momentum}`);
  } else if (o.kind === 'adam') {
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1)) throw new TrainConfigError('Adam betas must be in [0, 1)');
    pos('Adam epsilon', o.epsilon);
  } else {
    throw new TrainConfigError(`unknown optimizer '${(o as { kind: string }).kind}' (sgd or adam)`);
  }
  const s = c.schedule;
  if (s.kind === 'plateau') {
    pos('schedule factor', s.factor);
    int('schedule drops', s.maxDrops, 0);
    int('schedule patience', s.patience, 1);
    pos('schedule minDelta', s.minDelta, true);
  } else if (s.kind !== 'constant') {
    throw new TrainConfigError(`unknown schedule '${(s as { kind: string }).kind}' (constant or plateau)`);
  }
}

/** A config.json as written by any version: fields added later get the value older runs trained with. */
export function withConfigDefaults(raw: TrainConfig): TrainConfig {
  return { ...raw, loss: raw.loss ?? 'logits', augment: raw.augment ?? 'none', storedSize: raw.storedSize ?? null, keepPreviousCheckpoint: raw.keepPreviousCheckpoint ?? true };
}
