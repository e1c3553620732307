// Data-parallel training (batch slices on worker threads, gradients added in slice order) trains the model
// that one thread trains: the losses agree to float tolerance (only the order of the batch sums differs).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { defaultConfig, startRun, type TrainConfig } from '../../src-main/engine/train';
import { bandData } from './train-synthetic';

const STEPS = 50;
const BATCH = 32;

function config(): TrainConfig {
  return {
    ...defaultConfig('lenet5', 'synthetic'),
    model: { id: 'lenet5', overrides: { dropout: 0.3 } },
    backend: 'wasm',
    threads: 1,
    batchSize: BATCH,
    epochs: 1,
    seed: 11,
    statsEvery: 0,
    snapshotEvery: 25,
    probeSize: 8,
  };
}

async function train(ways: number | undefined) {
  const parent = await mkdtemp(path.join(tmpdir(), 'convscope-dp-'));
  // the last batch holds 1 example: fewer slices than ways
  const data = { data: bandData((STEPS - 1) * BATCH + 1, 0, [28, 28, 1]), preprocess: { kind: 'synthetic' }, warnings: [] };
  const tensors = tf.memory().numTensors;
  const trainer = await startRun(config(), { runDir: path.join(parent, 'run'), data, ...(ways ? { dataParallel: ways } : {}) });
  const losses: number[] = [];
  trainer.on((e) => {
    if (e.type === 'batch') losses.push(e.record.loss);
  });
  await trainer.run();
  const weights = await Promise.all(trainer.model.trainableWeights.map(async (w) => Float32Array.from(await w.read().data())));
  const command = JSON.parse(await readFile(path.join(trainer.runDir, 'command.json'), 'utf8'));
  trainer.dispose();
  const leaked = tf.memory().numTensors - tensors;
  return { losses, weights, leaked, threads: command.backend.threads as number, ways: command.backend.dataParallel as number | undefined };
}

function maxRelative(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(1e-6, Math.abs(b[i]))));
}

describe('data-parallel training', () => {
  it(`${STEPS} LeNet-5 steps with dropout on 2 and 3 ways repeat the 1-thread losses to 1e-5`, async () => {
    const one = await train(undefined);
    const two = await train(2);
    const three = await train(3);
    expect(one.losses).toHaveLength(STEPS);
    expect(one.leaked).toBe(0);
    // a real run: dropout on, learning
    expect(new Set(one.losses).size).toBe(STEPS);
    expect(one.losses.at(-1)!).toBeLessThan(one.losses[0]);
    expect(one.ways).toBeUndefined();
    for (const [ways, run] of [[2, two], [3, three]] as const) {
      expect(run.ways).toBe(ways);
      expect(run.threads).toBe(1);
      expect(run.losses).toHaveLength(STEPS);
      expect(maxRelative(run.losses, one.losses)).toBeLessThan(1e-5);
      // not the same run by accident: the slice sums are in another order
      expect(run.weights.map((w) => Array.from(w))).not.toEqual(one.weights.map((w) => Array.from(w)));
      run.weights.forEach((w, i) => expect(maxRelative(Array.from(w.slice(0, 64)), Array.from(one.weights[i].slice(0, 64)))).toBeLessThan(1e-3));
      expect(run.leaked).toBe(0);
    }
    console.log(`max relative loss difference: 2 ways ${maxRelative(two.losses, one.losses).toExponential(2)}, 3 ways ${maxRelative(three.losses, one.losses).toExponential(2)}`);
  }, 180_000);

  it('refuses a model with batch normalisation, naming the layer', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'convscope-dp-'));
    const data = { data: bandData(64, 0, [28, 28, 1]), preprocess: { kind: 'synthetic' }, warnings: [] };
    const bn = { ...config(), model: { id: 'lenet5', overrides: { batchNorm: true } } };
    const runDir = path.join(parent, 'run');
    await expect(startRun(bn, { runDir, data, dataParallel: 2 })).rejects.toThrow(/layer bn1 normalises over the batch/);
    // refused before the run folder is made
    expect(existsSync(runDir)).toBe(false);
  });
});
