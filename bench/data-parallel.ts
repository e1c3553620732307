// The data-parallel training measures (src-main/engine/train/data-parallel.ts): the main thread and W-1
// worker threads, each on a single-threaded wasm backend, one slice of the batch each, W = every core.
// Each measure runs the child's backend on 1 thread and gives it back its own count afterwards.
import { tf } from '../src-main/engine/tf';
import { defaultThreads, initBackend } from '../src-main/engine/backend';
import { buildModel, getModelSpec } from '../src-main/engine/models';
import { DataParallel } from '../src-main/engine/train/data-parallel';
import { chainLayers } from '../src-main/engine/train/forward';
import { createOptimizer, type OptimizerConfig, type Param } from '../src-main/engine/train/optimizers';
import { checkMemory, estimateTrainingMemory, memoryLimitFor } from '../src-main/engine/train/memory';
import { timedLoop, type Figure } from './harness';

/** Ways of the data-parallel measures: every core, at least 2. */
export const DATA_PARALLEL_WAYS = Math.max(2, defaultThreads());

/** Runs `measure` with the wasm backend on 1 thread (as data-parallel training runs it). */
export async function onOneThread(measure: () => Promise<Figure>): Promise<Figure> {
  if (tf.getBackend() !== 'wasm') throw new Error('data-parallel training runs on wasm only');
  const before = Number((await initBackend('wasm')).threads);
  await initBackend('wasm', { threads: 1 });
  try {
    const figure = await measure();
    return { ...figure, detail: { ...figure.detail, dataParallelWays: DATA_PARALLEL_WAYS, backendThreads: 1 } };
  } finally {
    await initBackend('wasm', { threads: before });
  }
}

/** Data-parallel SGD steps of a zoo model on one fixed batch (the bench's engine-step measures, split W ways). */
export function dataParallelStep(id: string, batch: number, optimizer: OptimizerConfig, lo: number, hi: number, measure: string, input: (n: number, lo: number, hi: number) => Float32Array) {
  return (ctx: { seconds: number; capSeconds: number }) =>
    onOneThread(async () => {
      const spec = getModelSpec(id);
      checkMemory(estimateTrainingMemory(spec, batch, optimizer), memoryLimitFor(tf.getBackend()), spec.id);
      const model = buildModel(spec, { seed: 1 });
      const layers = chainLayers(model);
      const params: Param[] = model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
      const opt = createOptimizer(optimizer);
      const x = tf.tensor4d(input(batch * spec.input[0] * spec.input[1] * spec.input[2], lo, hi), [batch, ...spec.input]);
      const labels = tf.tensor1d(Array.from(input(batch, 0, spec.classes), Math.floor), 'int32');
      const parallel = await DataParallel.start(DATA_PARALLEL_WAYS, spec, 1, params);
      let step = 0;
      try {
        return await timedLoop({
          measure, warmup: id === 'alexnet' ? 1 : 3, seconds: ctx.seconds, minSteps: id === 'alexnet' ? 2 : 3, capSeconds: ctx.capSeconds, perStep: batch, unit: 'images/s',
          step: async () => {
            step++;
            const { grads } = await parallel.step(layers, params, x, labels, { runSeed: 1, step, loss: 'logits' });
            opt.apply(params, grads, optimizer.lr);
            tf.dispose(grads);
          },
          sync: async () => {
            await params[0].variable.data();
          },
        });
      } finally {
        await parallel.dispose();
        opt.dispose();
        model.dispose();
        tf.dispose([x, labels]);
      }
    });
}
