// The wasm backend on several threads computes what it computes on one: XNNPACK splits each operation's
// outputs between its threads and never a sum, so a seeded run's losses are the same bit for bit.
import { describe, it, expect } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { defaultThreads, initBackend } from '../../src-main/engine/backend';
import { buildModel, getModelSpec } from '../../src-main/engine/models';
import { chainLayers, forward } from '../../src-main/engine/train/forward';
import { crossEntropyFromLogits } from '../../src-main/engine/train/loss';
import { createOptimizer, type Param } from '../../src-main/engine/train/optimizers';
import { dropoutSeed } from '../../src-main/engine/train/seeds';

/** Deterministic values in [lo, hi) (a linear congruential generator). */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

/** `steps` SGD-with-momentum steps of LeNet-5 (tanh, dropout on) from seed 1 on the given threads: the losses and the final weights. */
async function train(threads: number, steps: number, batch: number) {
  const report = await initBackend('wasm', { threads });
  const tensorsBefore = tf.memory().numTensors;
  const model = buildModel(getModelSpec('lenet5', { dropout: 0.2 }), { seed: 1 });
  const params: Param[] = model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
  const optimizer = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.0005 });
  const layers = chainLayers(model);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const x = tf.tensor4d(uniform(batch * 784, 0, 1, step), [batch, 28, 28, 1]);
    const y = tf.tensor1d(Array.from(uniform(batch, 0, 10, 1000 + step), Math.floor), 'int32');
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(layers, x, { training: true, logits: true, dropoutSeed: (i) => dropoutSeed(1, step, i) }) as tf.Tensor2D;
      return crossEntropyFromLogits(logits, y);
    }, params.map((p) => p.variable));
    optimizer.apply(params, params.map((p) => grads[p.variable.name]), 0.05);
    losses.push((await value.data())[0]);
    tf.dispose([x, y, value, ...Object.values(grads)]);
  }
  const weights = await Promise.all(params.map(async (p) => Array.from(await p.variable.data())));
  optimizer.dispose();
  model.dispose();
  return { threads: report.threads, losses, weights, leaked: tf.memory().numTensors - tensorsBefore };
}

describe('wasm threads', () => {
  it('50 LeNet-5 steps on one thread and on every core give the same losses and weights', async () => {
    const all = Math.max(2, defaultThreads());
    const one = await train(1, 50, 32);
    const many = await train(all, 50, 32);
    expect(one.threads).toBe(1);
    expect(many.threads).toBe(all);
    expect(many.losses).toEqual(one.losses);
    expect(many.weights).toEqual(one.weights);
    // a real run: new data and dropout masks every step, no tensor left behind
    expect(new Set(one.losses).size).toBe(50);
    expect(one.leaked).toBe(0);
    expect(many.leaked).toBe(0);
  }, 60_000);
});
