// The one place the engine imports TensorFlow.js from. The union package registers every gradient.
import * as tf from '@tensorflow/tfjs';

// Production mode silences tfjs's console banners ("install our node backend"): the engine reports
// its backend and the reasons for it itself.
tf.enableProdMode();

export { tf };
export type { Tensor, Rank, LayersModel } from '@tensorflow/tfjs';
