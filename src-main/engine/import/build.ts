// LayerPlan -> functional tfjs model, with the plan's weights loaded.
import { tf } from '../tf';
import { GroupedConv2D } from '../models/layers/grouped-conv2d';
import { LocalResponseNormalization } from '../models/layers/lrn';
import { canonicalPadding } from '../models/spec';
import { UnsupportedModelError } from './errors';
import { MODEL_INPUT, type LayerPlan, type PlanLayer } from './plan';

export function buildFromPlan(plan: LayerPlan, name: string): tf.LayersModel {
  const input = tf.input({ shape: [...plan.input], name: 'input' });
  const outputs: tf.SymbolicTensor[] = [];
  for (const planLayer of plan.layers) {
    const layer = toTfLayer(planLayer);
    const ins = planLayer.inputs.map((i) => (i === MODEL_INPUT ? input : outputs[i]));
    outputs.push(layer.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor);
    setLayerWeights(layer, planLayer);
  }
  return tf.model({ inputs: input, outputs: outputs[plan.output], name });
}

/** Loads a plan layer's weights into a built tfjs layer, checking every shape. */
export function setLayerWeights(layer: tf.layers.Layer, planLayer: PlanLayer): void {
  const expected = layer.weights.map((w) => w.shape.join('x'));
  const given = planLayer.weights.map((w) => w.shape.join('x'));
  if (expected.join() !== given.join()) {
    throw new Error(`layer ${layer.name}: imported weights ${given.join(', ') || 'none'} do not fit its weights ${expected.join(', ') || 'none'}`);
  }
  if (planLayer.weights.length === 0) return;
  const tensors = planLayer.weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  layer.setWeights(tensors);
  tf.dispose(tensors);
}

function toTfLayer(l: PlanLayer): tf.layers.Layer {
  const name = l.name;
  const c = l.config;
  switch (c.kind) {
    case 'conv': {
      if (c.dilation) {
        // The lowering pads dilated convolutions explicitly: only 'valid' and 'same' reach here.
        if (typeof c.padding !== 'string') throw new UnsupportedModelError(`${l.source}: a dilated convolution needs explicit padding`);
        return tf.layers.conv2d({ name, filters: c.filters, kernelSize: c.kernel, strides: c.strides, dilationRate: c.dilation, padding: c.padding, activation: c.activation, useBias: c.useBias, kernelInitializer: 'zeros' });
      }
      const square = c.kernel[0] === c.kernel[1] && c.strides[0] === c.strides[1];
      const padding = square ? canonicalPadding(c.kernel[0], c.strides[0], c.padding) : c.padding;
      if (c.groups === 1 && typeof padding === 'string') {
        return tf.layers.conv2d({ name, filters: c.filters, kernelSize: c.kernel, strides: c.strides, padding, activation: c.activation, useBias: c.useBias, kernelInitializer: 'zeros' });
      }
      if (!square) throw new UnsupportedModelError(`${l.source}: a grouped or padded convolution needs a square kernel and equal strides, got ${c.kernel.join('x')} / ${c.strides.join('x')}`);
      return new GroupedConv2D({ name, filters: c.filters, kernelSize: c.kernel[0], strides: c.strides[0], padding, groups: c.groups, activation: c.activation, useBias: c.useBias, kernelInitializer: tf.initializers.zeros() });
    }
    case 'relu':
      return tf.layers.reLU({ name, maxValue: c.maxValue });
    case 'zeroPad':
      return tf.layers.zeroPadding2d({ name, padding: c.pads });
    case 'dense':
      return tf.layers.dense({ name, units: c.units, activation: c.activation, useBias: c.useBias, kernelInitializer: 'zeros' });
    case 'maxPool':
      return tf.layers.maxPooling2d({ name, poolSize: c.size, strides: c.strides, padding: c.padding });
    case 'avgPool':
      return tf.layers.averagePooling2d({ name, poolSize: c.size, strides: c.strides, padding: c.padding });
    case 'lrn':
      return new LocalResponseNormalization({ name, depthRadius: c.depthRadius, bias: c.bias, alpha: c.alpha, beta: c.beta });
    case 'batchNorm':
      return tf.layers.batchNormalization({ name, epsilon: c.epsilon, axis: -1 });
    case 'activation':
      return tf.layers.activation({ name, activation: c.activation });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dropout':
      return tf.layers.dropout({ name, rate: c.rate });
    case 'concat':
      return tf.layers.concatenate({ name, axis: -1 });
    case 'add':
      return tf.layers.add({ name });
  }
}
