// Categorical cross-entropy on the model's softmax output and the counts behind top-1 / top-5 accuracy.
// log(p + 1e-7) rather than a clip: NaN must survive (wasm's clip, std::min/max, turns NaN into a bound),
// so a diverged run shows a NaN loss on every backend.
import { tf } from '../tf';

const EPSILON = 1e-7;

/** Mean over the batch of -log(p[label] + 1e-7); `probs` [batch, classes], `labels` int32 [batch]. */
export function crossEntropy(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, probs.shape[1]);
    const pTrue = tf.sum(tf.mul(probs, oneHot), 1);
    return tf.neg(tf.mean(tf.log(tf.add(pTrue, EPSILON))));
  });
}

/** [top-1 correct, top-5 correct] counts as a float32 [2] tensor; the rank of the true class is the number of classes with a higher probability. */
export function correctCounts(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, probs.shape[1]);
    const pTrue = tf.sum(tf.mul(probs, oneHot), 1, true);
    const rank = tf.sum(tf.cast(tf.greater(probs, pTrue), 'float32'), 1);
    const top1 = tf.sum(tf.cast(tf.equal(rank, 0), 'float32'));
    const top5 = tf.sum(tf.cast(tf.less(rank, 5), 'float32'));
    return tf.stack([top1, top5]) as tf.Tensor1D;
  });
}
