// Softmax cross-entropy computed from the logits (the output layer's input to its softmax), and the
// counts behind top-1 / top-5 accuracy.
//
// From logits, log-sum-exp keeps the loss exact and its gradient (softmax - one-hot) alive where the
// softmax has saturated; -log(p + eps) on probabilities has a vanishing gradient there, which leaves a
// net trained on unscaled 0-255 pixels stuck at its first step. (Keras computes it this way too, since
// TF 2, when the model ends in a softmax.) No clipping: a diverged run shows a NaN loss on every backend.
//
// 'keras-clipped' is standalone Keras 2.2's categorical_crossentropy, which the seed's notebooks ran:
// -log(clip(p, 1e-7, 1 - 1e-7)) on the softmax probabilities. An example whose true-class probability is
// clipped contributes 16.12 to the loss and nothing to the gradient, which is what lets those notebooks
// train on unscaled 0-255 pixels with SGD 0.01.
import { tf } from '../tf';

export const LOSS_KINDS = ['logits', 'keras-clipped'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

/** Keras' backend epsilon. */
export const KERAS_EPSILON = 1e-7;

/** Per example: logsumexp(z) - z[label]; `logits` [batch, classes], `labels` int32 [batch]. */
function crossEntropiesFromLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), 1);
  return tf.sub(tf.logSumExp(logits, 1), picked) as tf.Tensor1D;
}

/** Per example: -log(clip(softmax(z)[label], eps, 1 - eps)), Keras 2.2's way. */
function kerasClippedCrossEntropies(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const picked = tf.sum(tf.mul(tf.softmax(logits), tf.oneHot(labels, logits.shape[1])), 1);
  return tf.neg(tf.log(tf.clipByValue(picked, KERAS_EPSILON, 1 - KERAS_EPSILON))) as tf.Tensor1D;
}

/** Mean over the batch of logsumexp(z) - z[label]. */
export function crossEntropyFromLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(crossEntropiesFromLogits(logits, labels)));
}

/** Mean over the batch of -log(clip(softmax(z)[label], eps, 1 - eps)). */
export function kerasClippedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(kerasClippedCrossEntropies(logits, labels)));
}

export function lossFunction(kind: LossKind): (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar {
  return kind === 'keras-clipped' ? kerasClippedCrossEntropy : crossEntropyFromLogits;
}

/**
 * A batch slice's share of the batch's mean loss: its examples' losses summed, over `batchSize` (the whole
 * batch's size), so the shares of all slices add up to the batch's mean and their gradients to its gradient.
 */
export function sliceLossFunction(kind: LossKind, batchSize: number): (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar {
  const perExample = kind === 'keras-clipped' ? kerasClippedCrossEntropies : crossEntropiesFromLogits;
  return (logits, labels) => tf.tidy(() => tf.div(tf.sum(perExample(logits, labels)), batchSize));
}

/**
 * [top-1 correct, top-5 correct] counts as a float32 [2] tensor; the rank of the true class is the number
 * of classes scored higher. Scores may be logits or probabilities (softmax keeps the order).
 */
export function correctCounts(scores: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, scores.shape[1]);
    const sTrue = tf.sum(tf.mul(scores, oneHot), 1, true);
    const rank = tf.sum(tf.cast(tf.greater(scores, sTrue), 'float32'), 1);
    const top1 = tf.sum(tf.cast(tf.equal(rank, 0), 'float32'));
    const top5 = tf.sum(tf.cast(tf.less(rank, 5), 'float32'));
    return tf.stack([top1, top5]) as tf.Tensor1D;
  });
}
