// Softmax cross-entropy computed from the logits (the output layer's input to its softmax), and the
// counts behind top-1 / top-5 accuracy.
//
// From logits, log-sum-exp keeps the loss exact and its gradient (softmax - one-hot) alive where the
// softmax has saturated; -log(p + eps) on probabilities has a vanishing gradient there, which leaves a
// net trained on unscaled 0-255 pixels stuck at its first step. (Keras computes it this way too, since
// TF 2, when the model ends in a softmax.) No clipping: a diverged run shows a NaN loss on every backend.
import { tf } from '../tf';

/** Mean over the batch of logsumexp(z) - z[label]; `logits` [batch, classes], `labels` int32 [batch]. */
export function crossEntropyFromLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), picked));
  });
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
