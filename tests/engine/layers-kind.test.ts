// layerKind / layerActivation read a layer's class and activation config, never its name.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { GroupedConv2D, LocalResponseNormalization, layerActivation, layerKind } from '../../src-main/engine/models';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('layerKind and layerActivation', () => {
  it('classify by class and activation config', () => {
    const cases: [tf.layers.Layer, string, string | null][] = [
      [tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }), 'conv', 'relu'],
      [tf.layers.conv2d({ filters: 2, kernelSize: 3 }), 'conv', 'linear'],
      [new GroupedConv2D({ filters: 4, kernelSize: 3, groups: 2, activation: 'tanh' }), 'conv', 'tanh'],
      [tf.layers.dense({ units: 3, activation: 'sigmoid' }), 'dense', 'sigmoid'],
      [tf.layers.dense({ units: 3, activation: 'softmax' }), 'dense', 'softmax'],
      [tf.layers.dense({ units: 3, activation: 'elu' }), 'dense', 'other'],
      [tf.layers.reLU(), 'activation', 'relu'],
      [tf.layers.activation({ activation: 'tanh' }), 'activation', 'tanh'],
      [tf.layers.maxPooling2d({ poolSize: 2 }), 'maxPool', null],
      [tf.layers.averagePooling2d({ poolSize: 2 }), 'avgPool', null],
      [new LocalResponseNormalization(), 'lrn', null],
      [tf.layers.batchNormalization(), 'batchNorm', null],
      [tf.layers.flatten(), 'flatten', null],
      [tf.layers.dropout({ rate: 0.5 }), 'dropout', null],
      [tf.layers.zeroPadding2d({ padding: 1 }), 'zeroPadding', null],
      [tf.layers.gaussianNoise({ stddev: 1 }), 'other', null],
    ];
    for (const [layer, kind, activation] of cases) {
      expect([layer.getClassName(), layerKind(layer)]).toEqual([layer.getClassName(), kind]);
      expect([layer.getClassName(), layerActivation(layer)]).toEqual([layer.getClassName(), activation]);
    }
  });

  it('ignore misleading layer names', () => {
    const tanhNamedRelu = tf.layers.dense({ units: 3, activation: 'tanh', name: 'relu_dense' });
    const reluNamedPool = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'relu', name: 'pool_tanh' });
    expect([layerKind(tanhNamedRelu), layerActivation(tanhNamedRelu)]).toEqual(['dense', 'tanh']);
    expect([layerKind(reluNamedPool), layerActivation(reluNamedPool)]).toEqual(['conv', 'relu']);
  });

  it('see the input layer of a functional model', () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    expect(model.layers.map(layerKind)).toEqual(['input', 'dense']);
    model.dispose();
  });
});
