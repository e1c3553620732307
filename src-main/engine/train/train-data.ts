// What the trainer needs from a dataset: batches already preprocessed to the model's input shape.
// run.ts adapts the data module's datasets to this; tests can hand the trainer synthetic data directly.
import type { tf } from '../tf';
import type { RngState } from './rng';

export interface Batch {
  /** [n, height, width, channels], float32, preprocessed. */
  x: tf.Tensor4D;
  /** [n] int32 class indices. */
  labels: tf.Tensor1D;
}

/** 'train': with the run's training augmentation (random crops ...); 'eval': the deterministic view (centre crop). */
export type BatchMode = 'train' | 'eval';

export interface TrainSplit {
  size: number;
  /** The examples at these indices, in this order (mode default 'eval'); the caller disposes the tensors. */
  batch(indices: ArrayLike<number>, mode?: BatchMode): Batch | Promise<Batch>;
}

/** The random state of the training augmentation: a checkpoint stores it, a resume restores it. */
export interface AugmentRandom {
  getState(): RngState;
  setState(state: RngState): void;
}

export interface TrainData {
  classes: number;
  train: TrainSplit;
  /** Held-out examples for the per-epoch test loss/accuracy and the probe batch (null: none). */
  test: TrainSplit | null;
  /** Present when training batches are augmented at random. */
  augment?: AugmentRandom;
}
