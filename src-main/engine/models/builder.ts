// The one builder: a ModelSpec becomes a functional tfjs LayersModel, one tfjs layer per spec layer.
import { tf } from '../tf';
import { GroupedConv2D } from './layers/grouped-conv2d';
import { LocalResponseNormalization } from './layers/lrn';
import type { Initializer } from './layers/initializer-config';
import { checkModelMemory, estimateSpecMemory } from './memory-limit';
import { canonicalPadding, formatShape, type ConvLayerSpec, type InitSpec, type LayerSpec, type ModelSpec } from './spec';

export interface BuildOptions {
  /** Seeds every initializer (each layer's kernel and bias get their own seed derived from it and the layer name). */
  seed: number;
}

/**
 * Builds the spec after checking its shapes and that its weights and activations fit the memory limit
 * (estimated from the shape walk, before anything is allocated). Same spec + seed -> identical initial weights.
 * Dropout layers are not seeded: tfjs would reuse one mask for every step.
 */
export function buildModel(spec: ModelSpec, options: BuildOptions): tf.LayersModel {
  const estimate = estimateSpecMemory(spec);
  checkModelMemory(estimate, `${spec.id} (input ${formatShape(spec.input)}, ${(estimate.weightBytes / 4).toLocaleString('en-US')} parameters)`);
  if (!Number.isInteger(options.seed)) throw new Error(`buildModel: seed must be a whole number, got ${options.seed}`);
  const input = tf.input({ shape: [...spec.input], name: 'input' });
  let x = input;
  for (const layer of spec.layers) x = toTfLayer(layer, options.seed).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: spec.id });
}

/** The tfjs class a conv spec becomes: Conv2D unless it needs groups or padding Conv2D lacks. */
export function convClassName(layer: ConvLayerSpec): 'Conv2D' | 'GroupedConv2D' {
  const padding = canonicalPadding(layer.kernel, layer.stride, layer.padding);
  return layer.groups === 1 && typeof padding === 'string' ? 'Conv2D' : 'GroupedConv2D';
}

function toTfLayer(layer: LayerSpec, seed: number): tf.layers.Layer {
  const name = layer.name;
  switch (layer.kind) {
    case 'conv': {
      const common = {
        name,
        filters: layer.filters,
        kernelSize: layer.kernel,
        strides: layer.stride,
        activation: layer.activation,
        kernelInitializer: initializer(layer.kernelInit, layerSeed(seed, name, 'kernel')),
        biasInitializer: initializer(layer.biasInit, layerSeed(seed, name, 'bias')),
      };
      const padding = canonicalPadding(layer.kernel, layer.stride, layer.padding);
      if (convClassName(layer) === 'Conv2D') return tf.layers.conv2d({ ...common, padding: padding as 'valid' | 'same' });
      return new GroupedConv2D({ ...common, padding, groups: layer.groups });
    }
    case 'maxPool':
      return tf.layers.maxPooling2d({ name, poolSize: layer.size, strides: layer.stride, padding: layer.padding });
    case 'avgPool':
      return tf.layers.averagePooling2d({ name, poolSize: layer.size, strides: layer.stride, padding: layer.padding });
    case 'lrn':
      return new LocalResponseNormalization({ name, depthRadius: layer.depthRadius, bias: layer.bias, alpha: layer.alpha, beta: layer.beta });
    case 'batchNorm':
      return tf.layers.batchNormalization({ name, momentum: layer.momentum, epsilon: layer.epsilon });
    case 'activation':
      return tf.layers.activation({ name, activation: layer.activation });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dense':
      return tf.layers.dense({
        name,
        units: layer.units,
        activation: layer.activation,
        kernelInitializer: initializer(layer.kernelInit, layerSeed(seed, name, 'kernel')),
        biasInitializer: initializer(layer.biasInit, layerSeed(seed, name, 'bias')),
      });
    case 'dropout':
      return tf.layers.dropout({ name, rate: layer.rate });
  }
}

function initializer(init: InitSpec, seed: number): Initializer {
  switch (init.kind) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform({ seed });
    case 'heNormal':
      return tf.initializers.heNormal({ seed });
    case 'randomNormal':
      return tf.initializers.randomNormal({ mean: init.mean, stddev: init.stddev, seed });
    case 'zeros':
      return tf.initializers.zeros();
    case 'constant':
      return tf.initializers.constant({ value: init.value });
  }
}

/** FNV-1a of "seed/layer/weight": stable when other layers are added or removed. */
export function layerSeed(seed: number, layer: string, weight: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${layer}/${weight}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
