// The experiments ConvScope reproduces, as data: each a named, versioned recipe of arms (training
// configurations) and the published numbers to set ours beside.
import type { OptionValue } from '../models/spec';
import { defaultConfig, type TrainConfig } from '../train/config';

export interface RecipeOptions {
  epochs?: number;
  limit?: number;
  /** Evaluate on the first N test examples only. */
  testLimit?: number;
  /** Size multiplier for the scaled-down recipes (alexnet-ablations); 1 by default. */
  scale: number;
}

export interface Arm {
  id: string;
  label: string;
  /** Without the seed: the runner sets it per repeat. */
  config: TrainConfig;
}

export interface Published {
  arm: string;
  metric: 'finalTrainLoss' | 'testAccuracy';
  value: number;
  source: string;
}

export interface Recipe {
  name: string;
  version: number;
  title: string;
  description: string;
  /** What the report compares. */
  question: string;
  arms(o: RecipeOptions): Arm[];
  published: Published[];
  /** Train loss reached by every arm (for epochs-to-threshold); null where it means nothing. */
  lossThreshold: number | null;
}

/**
 * The Keras notebooks' LeNet-5 training: MNIST, raw pixels, SGD 0.01 without momentum, batch 128, and
 * standalone Keras 2.2's clipped cross-entropy (which is what lets raw pixels train; see train/loss.ts).
 */
function notebookConfig(overrides: Record<string, OptionValue>, epochs: number, o: RecipeOptions): TrainConfig {
  return {
    ...defaultConfig('lenet5', 'mnist'),
    model: { id: 'lenet5', overrides },
    preprocess: 'raw',
    loss: 'keras-clipped',
    optimizer: { kind: 'sgd', lr: 0.01, momentum: 0, weightDecay: 0 },
    schedule: { kind: 'constant' },
    batchSize: 128,
    epochs,
    limit: o.limit ?? null,
    testLimit: o.testLimit ?? null,
    // One kernel snapshot and one layer-statistics probe about every tenth of an epoch.
    snapshotEvery: 50,
    snapshotBudgetBytes: 2 ** 20,
    statsEvery: 50,
    probeSize: 256,
  };
}

const NOTEBOOK = 'senliuy/CNN-Structures';

const lenet5Convergence: Recipe = {
  name: 'lenet5-convergence',
  version: 2,
  title: 'LeNet-5 convergence (LeNet5.ipynb)',
  description: 'tanh LeNet-5 on MNIST with the notebook’s settings: raw pixels, SGD lr 0.01, batch 128, 30 epochs.',
  question: 'Does LeNet-5 reach the published test accuracy, and has it converged after about 10 epochs?',
  arms: (o) => [{ id: 'tanh', label: 'tanh', config: notebookConfig({ activation: 'tanh' }, o.epochs ?? 30, o) }],
  published: [
    { arm: 'tanh', metric: 'finalTrainLoss', value: 0.0535, source: `${NOTEBOOK} LeNet5.ipynb, epoch 30` },
    { arm: 'tanh', metric: 'testAccuracy', value: 0.9825, source: `${NOTEBOOK} LeNet5.ipynb` },
  ],
  lossThreshold: null,
};

const activation: Recipe = {
  name: 'activation',
  version: 2,
  title: 'tanh vs ReLU vs sigmoid (the blog’s figure 7)',
  description: 'LeNet-5 with three activations, otherwise the notebook’s settings, 20 epochs.',
  question: 'Which activation lowers the training loss fastest, and by how many epochs?',
  arms: (o) =>
    (['tanh', 'relu', 'sigmoid'] as const).map((a) => ({ id: a, label: a, config: notebookConfig({ activation: a }, o.epochs ?? 20, o) })),
  published: [
    { arm: 'relu', metric: 'finalTrainLoss', value: 0.0155, source: `${NOTEBOOK} LeNet_Dropout.ipynb (no dropout), epoch 20` },
    { arm: 'relu', metric: 'testAccuracy', value: 0.9826, source: `${NOTEBOOK} LeNet_Dropout.ipynb (no dropout)` },
  ],
  lossThreshold: 0.1,
};

const dropout: Recipe = {
  name: 'dropout',
  version: 2,
  title: 'Dropout (the blog’s figure 8)',
  description: 'ReLU LeNet-5 without and with Dropout(0.2) after both hidden dense layers, 20 epochs, the notebook’s settings.',
  question: 'Does dropout slow the training loss and raise test accuracy, beyond the spread across seeds?',
  arms: (o) => [
    { id: 'relu', label: 'no dropout', config: notebookConfig({ activation: 'relu' }, o.epochs ?? 20, o) },
    { id: 'dropout', label: 'dropout 0.2', config: notebookConfig({ activation: 'relu', dropout: 0.2 }, o.epochs ?? 20, o) },
  ],
  published: [
    { arm: 'relu', metric: 'finalTrainLoss', value: 0.0155, source: `${NOTEBOOK} LeNet_Dropout.ipynb, epoch 20` },
    { arm: 'relu', metric: 'testAccuracy', value: 0.9826, source: `${NOTEBOOK} LeNet_Dropout.ipynb` },
    { arm: 'dropout', metric: 'finalTrainLoss', value: 0.0735, source: `${NOTEBOOK} LeNet_Dropout.ipynb, epoch 20` },
    { arm: 'dropout', metric: 'testAccuracy', value: 0.9841, source: `${NOTEBOOK} LeNet_Dropout.ipynb` },
  ],
  lossThreshold: null,
};

/** A scaled AlexNet on Fashion-MNIST (upscaled): 8,000 images x 3 epochs, about 10 minutes a seed on a 2-core CPU at scale 1. */
function ablationConfig(overrides: Record<string, OptionValue>, o: RecipeOptions): TrainConfig {
  const side = Math.round(67 * Math.sqrt(o.scale));
  return {
    ...defaultConfig('alexnet', 'fashion-mnist'),
    model: { id: 'alexnet', overrides: { input: `${side}x${side}x1`, width: Math.min(1, 0.25 * o.scale), classes: 10, ...overrides } },
    preprocess: 'mean-pixel',
    optimizer: { kind: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 },
    batchSize: 64,
    epochs: o.epochs ?? 3,
    limit: o.limit ?? Math.round(8000 * o.scale),
    testLimit: o.testLimit ?? Math.round(2000 * o.scale),
    snapshotEvery: 0,
    statsEvery: 0,
  };
}

const alexnetAblations: Recipe = {
  name: 'alexnet-ablations',
  version: 2,
  title: 'AlexNet ablations: LRN, overlapping pooling, two-GPU groups, ReLU',
  description: 'A scaled AlexNet (input 67x67, width 0.25 at --scale 1) on upscaled Fashion-MNIST; each arm changes one thing from the paper’s design.',
  question: 'Do LRN, overlapping pooling, grouping and ReLU each lower the test error, beyond the spread across seeds?',
  arms: (o) => [
    { id: 'paper', label: 'paper (LRN, 3x3/2, grouped, ReLU)', config: ablationConfig({}, o) },
    { id: 'no-lrn', label: 'no LRN', config: ablationConfig({ lrn: false }, o) },
    { id: 'no-overlap', label: '2x2/2 pooling', config: ablationConfig({ overlap: false }, o) },
    { id: 'ungrouped', label: 'not grouped', config: ablationConfig({ grouped: false }, o) },
    { id: 'tanh', label: 'tanh', config: ablationConfig({ activation: 'tanh' }, o) },
  ],
  published: [],
  lossThreshold: null,
};

export const DEAD_RELU_RATES = [0.01, 0.1, 0.5, 1.0] as const;

const deadRelu: Recipe = {
  name: 'dead-relu',
  version: 1,
  title: 'Dead ReLUs against the learning rate',
  description: 'ReLU LeNet-5 on scaled pixels with plain SGD at four learning rates; dead channels counted on a fixed probe set.',
  question: 'Do large learning-rate steps kill ReLU units?',
  arms: (o) =>
    DEAD_RELU_RATES.map((lr) => ({
      id: `lr-${lr}`,
      label: `SGD lr ${lr}`,
      config: {
        ...notebookConfig({ activation: 'relu' }, o.epochs ?? 1, o),
        preprocess: 'scale',
        loss: 'logits',
        optimizer: { kind: 'sgd', lr, momentum: 0, weightDecay: 0 },
        statsEvery: 25,
      },
    })),
  published: [],
  lossThreshold: null,
};

export const RECIPES: readonly Recipe[] = [lenet5Convergence, activation, dropout, alexnetAblations, deadRelu];

export function findRecipe(name: string): Recipe | undefined {
  return RECIPES.find((r) => r.name === name);
}
