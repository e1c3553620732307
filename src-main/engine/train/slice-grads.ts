// The gradients of one slice of a training batch (data-parallel training): the loss is the slice's share of
// the batch's mean loss and dropout uses the slice's rows of the batch's masks, so the slices' gradients add
// up to the whole batch's (up to the order of the float sums).
import { tf } from '../tf';
import { forward } from './forward';
import { correctCounts, sliceLossFunction, type LossKind } from './loss';
import { dropoutSeed } from './seeds';

export interface SliceTask {
  runSeed: number;
  step: number;
  loss: LossKind;
  /** First row of the slice in the batch, and the batch's size. */
  start: number;
  batchSize: number;
}

export type SliceGrads = {
  /** The slice's share of the batch's mean loss. */
  loss: tf.Scalar;
  /** [top-1, top-5] correct in the slice. */
  counts: tf.Tensor1D;
  /** One per variable, same order. */
  grads: tf.Tensor[];
};

export function sliceGradients(layers: readonly tf.layers.Layer[], variables: readonly tf.Variable[], x: tf.Tensor, labels: tf.Tensor1D, task: SliceTask): SliceGrads {
  return tf.tidy(() => {
    let kept: tf.Tensor1D | null = null;
    const result = tf.variableGrads(() => {
      const logits = forward(layers, x, {
        training: true,
        logits: true,
        dropoutSeed: (i) => dropoutSeed(task.runSeed, task.step, i),
        batchSlice: { start: task.start, batchSize: task.batchSize },
      }) as tf.Tensor2D;
      kept = tf.keep(correctCounts(logits, labels));
      return sliceLossFunction(task.loss, task.batchSize)(logits, labels);
    }, [...variables]);
    return { loss: result.value, counts: kept! as tf.Tensor1D, grads: variables.map((v) => result.grads[v.name]) };
  });
}
