// Synthetic image data for trainer tests: class k is a bright vertical band at column k of a small image,
// plus seeded noise; learnable in a few steps, no files needed.
import { tf } from '../../src-main/engine/tf';
import type { TrainData, TrainSplit } from '../../src-main/engine/train/train-data';

export function bandSplit(size: number, shape: [number, number, number], classes: number, offset: number): TrainSplit {
  const [h, w, c] = shape;
  return {
    size,
    batch(indices) {
      const ids = Array.from(indices, (i) => i + offset);
      return tf.tidy(() => {
        const labels = tf.tensor1d(ids.map((i) => i % classes), 'int32');
        const columns = tf.oneHot(labels, w).reshape([ids.length, 1, w, 1]).tile([1, h, 1, c]);
        const noise = tf.concat(ids.map((i) => tf.randomUniform([1, h, w, c], 0, 0.5, 'float32', i)));
        return { x: tf.add(columns, noise) as tf.Tensor4D, labels: labels as tf.Tensor1D };
      });
    },
  };
}

export function bandData(train: number, test: number, shape: [number, number, number] = [16, 16, 1], classes = 10): TrainData {
  return { classes, train: bandSplit(train, shape, classes, 0), test: test > 0 ? bandSplit(test, shape, classes, 1_000_000) : null };
}

/**
 * Colour images for the zoo's AlexNet: class k (of 10) is a bright vertical stripe over columns
 * [6k, 6k + 6) in channel k % 3, plus seeded noise.
 */
export function stripeSplit(size: number, side: number, offset = 0): TrainSplit {
  return {
    size,
    batch(indices) {
      const ids = Array.from(indices, (i) => i + offset);
      return tf.tidy(() => {
        const stripes = tf.buffer([ids.length, side, side, 3]);
        ids.forEach((id, n) => {
          const k = id % 10;
          for (let r = 0; r < side; r++) for (let c = 6 * k; c < Math.min(side, 6 * k + 6); c++) stripes.set(1, n, r, c, k % 3);
        });
        const noise = tf.concat(ids.map((i) => tf.randomUniform([1, side, side, 3], 0, 0.2, 'float32', 7 + i)));
        return { x: tf.add(stripes.toTensor(), noise) as tf.Tensor4D, labels: tf.tensor1d(ids.map((i) => i % 10), 'int32') as tf.Tensor1D };
      });
    },
  };
}
