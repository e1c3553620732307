// What the trainer needs from a dataset: batches already preprocessed to the model's input shape.
// run.ts adapts the data module's datasets to this; tests can hand the trainer synthetic data directly.
import type { tf } from '../tf';

export interface Batch {
  /** [n, height, width, channels], float32, preprocessed. */
  x: tf.Tensor4D;
  /** [n] int32 class indices. */
  labels: tf.Tensor1D;
}

export interface TrainSplit {
  size: number;
  /** The examples at these indices, in this order; the caller disposes the tensors. */
  batch(indices: ArrayLike<number>): Batch | Promise<Batch>;
}

export interface TrainData {
  classes: number;
  train: TrainSplit;
  /** Held-out examples for the per-epoch test loss/accuracy and the probe batch (null: none). */
  test: TrainSplit | null;
}
