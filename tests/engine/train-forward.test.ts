// The training forward pass: the first conv layer (fed by the data) goes through the unfused conv2d,
// with the same outputs and parameter gradients as the layer's own call, and no input gradient.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec } from '../../src-main/engine/models';
import { chainLayers, forward } from '../../src-main/engine/train/forward';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('training forward pass', () => {
  // tfjs fuses conv + bias (+ relu only outside gradients): with tanh/sigmoid the fused kernel's gradient
  // also computes the first layer's input gradient; with relu tfjs falls back to the unfused ops itself.
  it.each([
    ['tanh', 2],
    ['sigmoid', 2],
    ['relu', 1],
  ] as const)('%s LeNet-5: same outputs and gradients as the layers’ own calls, no input gradient for the data', async (activation, layersOwn) => {
    const model = buildModel(getModelSpec('lenet5', { activation }), { seed: 4 });
    const layers = chainLayers(model);
    const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 5);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = (f: () => tf.Tensor) => () => tf.sum(tf.square(f())) as tf.Scalar;
    const ours = tf.variableGrads(loss(() => forward(layers, x, { training: true, dropoutSeed: () => 1 })), vars);
    const theirs = tf.variableGrads(loss(() => model.apply(x, { training: true }) as tf.Tensor), vars);
    expect((await ours.value.data())[0]).toBeCloseTo((await theirs.value.data())[0], 4);
    for (const v of vars) {
      const [a, b] = [await ours.grads[v.name].data(), await theirs.grads[v.name].data()];
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(Math.max(...Array.from(a, (g, i) => Math.abs(g - b[i]))) / scale).toBeLessThan(1e-5);
    }
    const backpropInputs = async (f: () => tf.Tensor) =>
      (await tf.profile(() => tf.variableGrads(loss(f), vars))).kernels.filter((k) => k.name === 'Conv2DBackpropInput').length;
    expect(await backpropInputs(() => model.apply(x, { training: true }) as tf.Tensor)).toBe(layersOwn);
    expect(await backpropInputs(() => forward(layers, x, { training: true, dropoutSeed: () => 1 }))).toBe(1);
    tf.dispose([x, ours.value, theirs.value, ...Object.values(ours.grads), ...Object.values(theirs.grads)]);
    model.dispose();
  });
});
