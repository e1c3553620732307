import { tf } from '../../tf';
import type { Activation } from '../spec';

export function applyActivation<T extends tf.Tensor>(x: T, activation: Activation): T {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'softmax':
      return tf.softmax(x);
  }
}
