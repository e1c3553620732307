// Evaluation on a labelled split: top-1 / top-5 error and a confusion matrix that knows which examples
// fall in each cell.
import { tf } from '../tf';
import type { TrainSplit } from '../train/train-data';

export interface Evaluation {
  examples: number;
  classes: number;
  accuracy: number;
  top1Error: number;
  /** null when the model has 5 classes or fewer (top-5 would always be right). */
  top5Error: number | null;
  /** classes x classes, row = true class, column = predicted class. */
  confusion: Uint32Array;
  /** Top-1 prediction of each example. */
  predicted: Int32Array;
  labels: Int32Array;
  /** Example indices sorted by cell; cell (t, p) holds order[cellStart[t*C+p] .. cellStart[t*C+p+1]). */
  order: Uint32Array;
  cellStart: Uint32Array;
}

/** The indices (into the split) of the examples of true class t predicted as p. */
export function cellExamples(e: Evaluation, t: number, p: number): Uint32Array {
  const c = t * e.classes + p;
  return e.order.subarray(e.cellStart[c], e.cellStart[c + 1]);
}

/** The confusion matrix as rows of counts (for JSON). */
export function confusionRows(e: Evaluation): number[][] {
  return Array.from({ length: e.classes }, (_, t) => Array.from(e.confusion.subarray(t * e.classes, (t + 1) * e.classes)));
}

export interface EvaluateOptions {
  batchSize?: number;
  /** Evaluate the first n examples only. */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Runs the split through the model in inference mode, batch by batch. */
export async function evaluateModel(model: tf.LayersModel, split: TrainSplit, options: EvaluateOptions = {}): Promise<Evaluation> {
  const total = Math.min(split.size, options.limit ?? split.size);
  const batchSize = options.batchSize ?? 64;
  const labels = new Int32Array(total);
  const predicted = new Int32Array(total);
  let inTop5 = 0;
  let classes = 0;
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    const batch = await split.batch(Array.from({ length: end - start }, (_, i) => start + i));
    const out = tf.tidy(() => model.predict(batch.x) as tf.Tensor2D);
    const [probs, ys] = await Promise.all([out.data(), batch.labels.data()]);
    tf.dispose([out, batch.x, batch.labels]);
    classes = out.shape[1];
    for (let i = 0; i < end - start; i++) {
      const row = probs.subarray(i * classes, (i + 1) * classes) as Float32Array;
      const label = ys[i];
      labels[start + i] = label;
      predicted[start + i] = argMax(row);
      // The label is in the top 5 when fewer than 5 classes score higher (ties count in its favour).
      let higher = 0;
      for (let c = 0; c < classes; c++) if (row[c] > row[label]) higher++;
      if (higher < 5) inTop5++;
    }
    options.onProgress?.(end, total);
  }
  return summarise(labels, predicted, classes, inTop5);
}

function argMax(row: Float32Array): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

/** Builds the confusion matrix and its cell index from labels and top-1 predictions. */
export function summarise(labels: Int32Array, predicted: Int32Array, classes: number, inTop5: number): Evaluation {
  const n = labels.length;
  const cells = classes * classes;
  const confusion = new Uint32Array(cells);
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) throw new RangeError(`example ${i} has label ${labels[i]}, but the model has ${classes} classes`);
    confusion[labels[i] * classes + predicted[i]]++;
  }
  const cellStart = new Uint32Array(cells + 1);
  for (let c = 0; c < cells; c++) cellStart[c + 1] = cellStart[c] + confusion[c];
  const fill = cellStart.slice(0, cells);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[fill[labels[i] * classes + predicted[i]]++] = i;
  let correct = 0;
  for (let t = 0; t < classes; t++) correct += confusion[t * classes + t];
  const accuracy = n > 0 ? correct / n : 0;
  return {
    examples: n,
    classes,
    accuracy,
    top1Error: 1 - accuracy,
    top5Error: classes > 5 && n > 0 ? 1 - inTop5 / n : null,
    confusion,
    predicted,
    labels,
    order,
    cellStart,
  };
}
