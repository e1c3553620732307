// What a built tfjs layer is, from its class and its activation config (never from its name).
import { tf } from '../tf';
import type { Activation } from './spec';

export type LayerKind =
  | 'input'
  | 'conv'
  | 'dense'
  | 'maxPool'
  | 'avgPool'
  | 'lrn'
  | 'batchNorm'
  | 'activation'
  | 'flatten'
  | 'dropout'
  | 'zeroPadding'
  | 'other';

const KIND_BY_CLASS: Record<string, LayerKind> = {
  InputLayer: 'input',
  Conv2D: 'conv',
  GroupedConv2D: 'conv',
  Dense: 'dense',
  MaxPooling2D: 'maxPool',
  AveragePooling2D: 'avgPool',
  LocalResponseNormalization: 'lrn',
  BatchNormalization: 'batchNorm',
  Activation: 'activation',
  ReLU: 'activation',
  Softmax: 'activation',
  Flatten: 'flatten',
  Dropout: 'dropout',
  ZeroPadding2D: 'zeroPadding',
};

/** Classes whose output is passed through the activation named in their config. */
const CONFIGURED_ACTIVATION = new Set(['Conv2D', 'GroupedConv2D', 'Dense', 'Activation']);
const KNOWN_ACTIVATIONS = new Set<string>(['linear', 'relu', 'tanh', 'sigmoid', 'softmax']);

export function layerKind(layer: tf.layers.Layer): LayerKind {
  return KIND_BY_CLASS[layer.getClassName()] ?? 'other';
}

/**
 * The nonlinearity applied at the layer's output: 'relu' for a ReLU layer or a conv/dense/Activation
 * layer configured with relu (likewise tanh, sigmoid, softmax, linear); 'other' for an activation this
 * app does not model (elu, ...); null for layers that apply none (pooling, flatten, LRN, ...).
 */
export function layerActivation(layer: tf.layers.Layer): Activation | 'other' | null {
  const cls = layer.getClassName();
  if (cls === 'ReLU') return 'relu';
  if (cls === 'Softmax') return 'softmax';
  if (!CONFIGURED_ACTIVATION.has(cls)) return null;
  const activation = layer.getConfig().activation;
  if (typeof activation !== 'string') return 'other';
  return KNOWN_ACTIVATIONS.has(activation) ? (activation as Activation) : 'other';
}
