// The records a run writes: one per batch (batch.jsonl), one per epoch (epochs.jsonl), and the running
// sums an epoch's record is made from (saved in checkpoints so a resumed epoch reports the same figures).

export interface BatchRecord {
  /** 1-based over the whole run. */
  step: number;
  /** 1-based. */
  epoch: number;
  /** 1-based within the epoch. */
  batch: number;
  size: number;
  loss: number;
  accuracy: number;
  lr: number;
  /** Wall time of this step. */
  seconds: number;
}

export interface EpochRecord {
  epoch: number;
  examples: number;
  loss: number;
  accuracy: number;
  /** Only when the dataset has more than 5 classes. */
  top5Accuracy?: number;
  testLoss: number | null;
  testAccuracy: number | null;
  testTop5Accuracy?: number | null;
  /** Learning rate used in this epoch. */
  lr: number;
  /** The epoch's wall time, evaluation included. */
  seconds: number;
  /** Wall time of the training loop alone. */
  trainSeconds: number;
  /** Training examples per second of the training loop (evaluation excluded). */
  imagesPerSecond: number;
}

export interface EpochSums {
  examples: number;
  lossSum: number;
  correct: number;
  correct5: number;
  trainSeconds: number;
}

export const EMPTY_SUMS: EpochSums = { examples: 0, lossSum: 0, correct: 0, correct5: 0, trainSeconds: 0 };

export interface Evaluation {
  examples: number;
  loss: number;
  accuracy: number;
  top5Accuracy: number;
}
