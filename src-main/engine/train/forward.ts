// The model's forward pass layer by layer. Training passes draw dropout masks from explicit seeds
// (tfjs' Dropout layer uses unseeded Math.random, or one fixed mask when seeded), so a resumed run
// reproduces every mask.
import { tf } from '../tf';
import { layerActivation, layerKind } from '../models/layer-kind';
import { TrainConfigError } from './errors';

/** The model's layers after its input, checked to form one chain (what the zoo's builder makes). */
export function chainLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const layers = model.layers.filter((l) => layerKind(l) !== 'input');
  layers.forEach((layer, i) => {
    const nodes = layer.inboundNodes;
    const parents = nodes.length === 1 ? nodes[0].inboundLayers : [];
    const expected = i === 0 ? model.layers.find((l) => layerKind(l) === 'input') : layers[i - 1];
    if (parents.length !== 1 || parents[0] !== expected) {
      throw new TrainConfigError(`${model.name}: layer ${layer.name} is not fed by the layer before it; training needs a chain of layers`);
    }
  });
  return layers;
}

export interface ForwardOptions {
  training: boolean;
  /** Seed of the dropout mask of the layer at this chain index (training only). */
  dropoutSeed?: (layerIndex: number) => number;
  /**
   * The input is rows [start, start + n) of a batch of `batchSize` examples: dropout masks are those rows
   * of the whole batch's masks (data-parallel training; the same arithmetic as the whole batch's pass).
   */
  batchSlice?: { start: number; batchSize: number };
  /** Stop before the output layer's softmax: the result is its logits (for a stable cross-entropy). */
  logits?: boolean;
  /** Sees every layer's output (inside the caller's tidy scope). */
  onOutput?: (layer: tf.layers.Layer, index: number, output: tf.Tensor) => void;
}

export function forward(layers: readonly tf.layers.Layer[], x: tf.Tensor, options: ForwardOptions): tf.Tensor {
  let out = x;
  layers.forEach((layer, i) => {
    if (layerKind(layer) === 'dropout') {
      const rate = Number(layer.getConfig().rate);
      if (options.training && rate > 0) {
        if (!options.dropoutSeed) throw new Error('forward: a training pass through dropout needs dropoutSeed');
        out = options.batchSlice ? slicedDropout(out, rate, options.dropoutSeed(i), options.batchSlice) : tf.dropout(out, rate, undefined, options.dropoutSeed(i));
      }
    } else if (options.logits && i === layers.length - 1) {
      out = denseLogits(layer, out);
    } else if (options.training && i === 0 && isPlainConv(layer)) {
      out = dataConv(layer, out);
    } else {
      out = layer.apply(out, { training: options.training }) as tf.Tensor;
    }
    options.onOutput?.(layer, i, out);
  });
  return out;
}

/** tf.dropout's arithmetic with rows [start, start + x's rows) of the mask it draws for the whole batch. */
function slicedDropout(x: tf.Tensor, rate: number, seed: number, slice: { start: number; batchSize: number }): tf.Tensor {
  const keep = 1 - rate;
  const full = tf.randomUniform([slice.batchSize, ...x.shape.slice(1)], 0, 1, 'float32', seed);
  const rows = tf.slice(full, [slice.start], [x.shape[0]]);
  return tf.mul(x, tf.div(tf.floor(tf.add(rows, keep)), keep));
}

const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: tf.relu,
  tanh: tf.tanh,
  sigmoid: tf.sigmoid,
};

function isPlainConv(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === 'Conv2D' && layer.getConfig().dataFormat === 'channelsLast' && String(layerActivation(layer)) in ACTIVATIONS;
}

/**
 * A first Conv2D layer, whose input is the data, by the unfused conv2d: its gradient computes the input
 * gradient only where asked (never, here), while the fused conv2d tfjs-layers uses always computes it
 * (a third of that kernel's work in a LeNet-5 step). Same arithmetic as the layer's own call.
 */
function dataConv(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const c = layer.getConfig() as { strides: [number, number]; padding: 'valid' | 'same'; dilationRate: [number, number]; useBias: boolean };
  const [kernel, bias] = layer.trainableWeights.map((w) => w.read());
  const y = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilationRate);
  return ACTIVATIONS[String(layerActivation(layer))](bias ? tf.add(y, bias) : y);
}

/** x W + b of a softmax-activated dense layer, i.e. its output before the softmax. */
function denseLogits(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  if (layerKind(layer) !== 'dense' || layerActivation(layer) !== 'softmax') {
    throw new TrainConfigError(`layer ${layer.name}: training needs the model to end in a dense layer with a softmax activation`);
  }
  const [kernel, bias] = layer.trainableWeights.map((w) => w.read());
  const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  return bias ? tf.add(z, bias) : z;
}
