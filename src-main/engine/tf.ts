// The one place the engine imports TensorFlow.js from. The union package registers every gradient.
import * as tf from '@tensorflow/tfjs';

export { tf };
export type { Tensor, Rank, LayersModel } from '@tensorflow/tfjs';
