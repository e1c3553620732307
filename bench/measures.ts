// Each measurement the benchmark makes, run in a child process on a backend already selected. They use
// the engine's own modules: the zoo's specs and builder, the trainer (startRun on MNIST in memory) or
// its forward / loss / optimizer parts, and inspectImage.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../src-main/engine/tf';
import { buildModel, getModelSpec } from '../src-main/engine/models';
import { defaultConfig, startRun, type TrainConfig } from '../src-main/engine/train';
import { chainLayers, forward } from '../src-main/engine/train/forward';
import { crossEntropyFromLogits } from '../src-main/engine/train/loss';
import { createOptimizer, type OptimizerConfig, type Param } from '../src-main/engine/train/optimizers';
import { checkMemory, estimateTrainingMemory, memoryLimitFor } from '../src-main/engine/train/memory';
import { openTrainData } from '../src-main/engine/train/open-data';
import { dropoutSeed } from '../src-main/engine/train/seeds';
import { resolveModel } from '../src-main/engine/inspect/model-ref';
import { inspectImage } from '../src-main/engine/inspect/inspect';
import { kernelFlops } from './flops';
import { emit, loadAverage, round, timedLoop, type Figure } from './harness';
import { DATA_PARALLEL_WAYS, dataParallelStep, onOneThread } from './data-parallel';

export interface MeasureContext {
  /** The backend kind as ConvScope names it (wasm, cpu, node, gpu, webgpu). */
  backend: string;
  seconds: number;
  capSeconds: number;
}

export interface Measure {
  title: string;
  /** Training measures are skipped on a backend whose LeNet-5 training was already too slow. */
  training: boolean;
  /** Default cap (seconds, warm-up included) before the measure counts as too slow. */
  cap: number;
  run(ctx: MeasureContext): Promise<Figure>;
}

const SGD_NOTEBOOK: OptimizerConfig = { kind: 'sgd', lr: 0.01, momentum: 0, weightDecay: 0 };
const SGD_PAPER: OptimizerConfig = { kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0.0005 };

/** Deterministic pseudo-random values in [lo, hi): the same data on every backend. */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

function randomBatch(n: number, input: [number, number, number], classes: number, lo: number, hi: number) {
  const x = tf.tensor4d(uniform(n * input[0] * input[1] * input[2], lo, hi, 1), [n, ...input]);
  const labels = tf.tensor1d(Array.from(uniform(n, 0, classes, 2), Math.floor), 'int32');
  return { x, labels };
}

/** A zoo model with the trainer's parts: its layer chain, parameters and an optimizer. */
function trainingParts(id: string, overrides: Record<string, string>, optimizer: OptimizerConfig) {
  const spec = getModelSpec(id, overrides);
  const model = buildModel(spec, { seed: 1 });
  const params: Param[] = model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
  return { spec, model, layers: chainLayers(model), params, optimizer: createOptimizer(optimizer), lr: optimizer.lr };
}

type Parts = ReturnType<typeof trainingParts>;

/** One SGD step as the trainer takes it (seeded dropout, loss from logits); the loss read back only when asked. */
function makeStep(parts: Parts, x: tf.Tensor4D, labels: tf.Tensor1D, readBack: boolean) {
  let step = 0;
  const vars = parts.params.map((p) => p.variable);
  return async () => {
    step++;
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(parts.layers, x, { training: true, logits: true, dropoutSeed: (i) => dropoutSeed(1, step, i) }) as tf.Tensor2D;
      return crossEntropyFromLogits(logits, labels);
    }, vars);
    parts.optimizer.apply(parts.params, parts.params.map((p) => grads[p.variable.name]), parts.lr);
    tf.dispose(grads);
    if (readBack) await value.data();
    value.dispose();
  };
}

/** Waits until the backend has finished: a read of one weight (what an asynchronous backend needs). */
function syncOn(parts: Parts) {
  return async () => {
    await parts.params[0].variable.data();
  };
}

function dispose(parts: Parts, ...tensors: tf.Tensor[]) {
  parts.optimizer.dispose();
  parts.model.dispose();
  tf.dispose(tensors);
}

function lenetStep(activation: 'tanh' | 'relu', readBack: boolean, measure: string): Measure['run'] {
  return async (ctx) => {
    const parts = trainingParts('lenet5', { activation }, SGD_NOTEBOOK);
    const { x, labels } = randomBatch(128, parts.spec.input, 10, 0, 255);
    const figure = await timedLoop({
      measure, warmup: 3, seconds: ctx.seconds, minSteps: 3, capSeconds: ctx.capSeconds, perStep: 128, unit: 'images/s',
      step: makeStep(parts, x, labels, readBack), sync: syncOn(parts),
    });
    dispose(parts, x, labels);
    return figure;
  };
}

/** LeNet-5 as `convscope train` runs it: startRun on MNIST (in memory), the Trainer's loop and logs. */
async function lenetTrainer(ctx: MeasureContext, dataParallel?: number): Promise<Figure> {
  const measure = dataParallel ? 'lenet-train-dp' : 'lenet-train';
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-bench-'));
  try {
    const config: TrainConfig = {
      ...defaultConfig('lenet5', 'mnist'),
      optimizer: SGD_NOTEBOOK,
      preprocess: 'raw',
      batchSize: 128,
      epochs: 1,
      testLimit: 1000,
      backend: ctx.backend,
    };
    const prepared = await openTrainData(config, getModelSpec('lenet5'));
    // Time spent preparing batches: what preparing the next batch during this one could save at most.
    let batchMs = 0;
    let batches = 0;
    const train = prepared.data.train;
    const timedTrain = {
      size: train.size,
      batch: async (indices: ArrayLike<number>) => {
        const t = performance.now();
        const b = await train.batch(indices);
        batchMs += performance.now() - t;
        batches++;
        return b;
      },
    };
    const trainer = await startRun(config, { runsDir, argv: ['bench'], data: { ...prepared, data: { ...prepared.data, train: timedTrain } }, ...(dataParallel ? { dataParallel } : {}) });
    const WARMUP = 3;
    const startedAt = performance.now();
    let t0 = 0;
    let timedImages = 0;
    let steps = 0;
    let lastAt = 0;
    let loadBefore = loadAverage();
    let batchMsAtStart = 0;
    trainer.on((event) => {
      if (event.type !== 'batch') return;
      const now = performance.now();
      steps++;
      if (steps === WARMUP) {
        t0 = now;
        loadBefore = loadAverage();
        batchMsAtStart = batchMs;
      } else if (steps > WARMUP) {
        timedImages += event.record.size;
        lastAt = now;
        if ((now - t0) / 1000 >= ctx.seconds || (now - startedAt) / 1000 >= ctx.capSeconds) trainer.stop();
        if ((steps - WARMUP) % 10 === 0) emit({ type: 'partial', measure, steps: steps - WARMUP, seconds: (now - t0) / 1000, perStep: 128, unit: 'images/s' });
      }
    });
    await trainer.run();
    trainer.dispose();
    const seconds = (lastAt - t0) / 1000;
    const timedSteps = Math.max(0, steps - WARMUP);
    return {
      value: timedImages / seconds,
      unit: 'images/s',
      steps: timedSteps,
      seconds,
      loadBefore,
      loadAfter: loadAverage(),
      ...(seconds < ctx.seconds ? { tooSlow: true } : {}),
      detail: {
        dataset: 'mnist (raw pixels, in memory)',
        batchPrepMsPerStep: round((batchMs - batchMsAtStart) / Math.max(1, batches - WARMUP), 3),
        stepMs: round((seconds * 1000) / Math.max(1, timedSteps), 2),
      },
    };
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

function lenetInfer(batch: number, measure: string): Measure['run'] {
  return async (ctx) => {
    const spec = getModelSpec('lenet5');
    const model = buildModel(spec, { seed: 1 });
    const layers = chainLayers(model);
    const x = tf.tensor4d(uniform(batch * 784, 0, 255, 3), [batch, 28, 28, 1]);
    const figure = await timedLoop({
      measure, warmup: 5, seconds: ctx.seconds, minSteps: batch === 1 ? 20 : 3, capSeconds: ctx.capSeconds, perStep: batch,
      unit: batch === 1 ? 'ms' : 'images/s',
      // The probabilities are read back: a prediction is only done when JavaScript has it.
      step: async () => {
        const y = tf.tidy(() => forward(layers, x, { training: false }));
        await y.data();
        y.dispose();
      },
    });
    model.dispose();
    x.dispose();
    return figure;
  };
}

/** One LeNet-5 training step, kernel by kernel (tf.profile), against the FLOPs each kernel needs. */
async function lenetProfile(ctx: MeasureContext): Promise<Figure> {
  const parts = trainingParts('lenet5', { activation: 'tanh' }, SGD_NOTEBOOK);
  const { x, labels } = randomBatch(128, parts.spec.input, 10, 0, 255);
  const step = makeStep(parts, x, labels, false);
  for (let i = 0; i < 3; i++) await step();
  await syncOn(parts)();
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const loadBefore = loadAverage();
  const PROFILED = 5;
  type Row = { kernel: string; calls: number; ms: number; flops: number };
  const rows = new Map<string, Row>();
  const t0 = performance.now();
  let steps = 0;
  for (; steps < PROFILED; steps++) {
    const info = await tf.profile(async () => {
      await step();
    });
    // Entries named 'xxx__op' are op scopes (custom gradients) whose kernels are listed themselves.
    for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) {
      const row = rows.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0, flops: 0 };
      row.calls++;
      row.ms += Number(k.kernelTimeMs);
      row.flops += kernelFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][]);
      rows.set(k.name, row);
    }
    if ((performance.now() - t0) / 1000 > ctx.capSeconds) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  dispose(parts, x, labels);
  const n = Math.max(1, steps);
  const kernels = [...rows.values()]
    .map((r) => ({ kernel: r.kernel, callsPerStep: round(r.calls / n, 1), msPerStep: round(r.ms / n, 3), gflopPerStep: round(r.flops / n / 1e9, 4), gflops: r.flops > 0 ? round(r.flops / r.ms / 1e6, 2) : null }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  const kernelMs = kernels.reduce((s, k) => s + k.msPerStep, 0);
  return {
    value: kernelMs,
    unit: 'ms',
    steps,
    seconds,
    loadBefore,
    loadAfter: loadAverage(),
    detail: { batch: 128, activation: 'tanh', kernelMsPerStep: round(kernelMs, 2), wallMsPerProfiledStep: round((seconds * 1000) / n, 2), kernels },
  };
}

/** Attainable FLOP/s of this backend: a tight 512x512 float32 matmul. */
async function matmulPeak(ctx: MeasureContext): Promise<Figure> {
  const N = 512;
  const a = tf.tensor2d(uniform(N * N, -1, 1, 4), [N, N]);
  const b = tf.tensor2d(uniform(N * N, -1, 1, 5), [N, N]);
  const figure = await timedLoop({
    measure: 'matmul-peak', warmup: 3, seconds: Math.min(ctx.seconds, 5), minSteps: 3, capSeconds: ctx.capSeconds, perStep: 1, unit: 'ms',
    step: async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    },
  });
  tf.dispose([a, b]);
  const gflops = (2 * N ** 3) / (Number(figure.detail?.minMsPerStep) * 1e6);
  return { ...figure, value: gflops, unit: 'GFLOP/s', detail: { ...figure.detail, size: N, note: 'best call, result read back' } };
}

/** A 500x375 photo-sized JPEG: smooth gradients and a disc (as bench/inspect-alexnet.ts makes). */
async function photo(): Promise<Buffer> {
  const raw = Buffer.alloc(500 * 375 * 3);
  for (let y = 0; y < 375; y++) {
    for (let x = 0; x < 500; x++) raw.set([(x * 255) / 500, (y * 255) / 375, (x - 250) ** 2 + (y - 180) ** 2 < 80 ** 2 ? 240 : 40], (y * 500 + x) * 3);
  }
  return sharp(raw, { raw: { width: 500, height: 375, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** The full AlexNet (60,965,224 params): decode, preprocess, one multi-output forward pass, stats, top-5. */
async function alexnetInspect(ctx: MeasureContext): Promise<Figure> {
  const jpeg = await photo();
  const t = performance.now();
  const resolved = await resolveModel('alexnet');
  const buildMs = performance.now() - t;
  const c = performance.now();
  await inspectImage(resolved, jpeg);
  const coldMs = performance.now() - c;
  let last = { decodeMs: 0, forwardMs: 0 };
  const figure = await timedLoop({
    measure: 'alexnet-inspect', warmup: 1, seconds: ctx.seconds, minSteps: 3, capSeconds: ctx.capSeconds, perStep: 1, unit: 'ms',
    step: async () => {
      last = (await inspectImage(resolved, jpeg)).timings;
    },
  });
  resolved.model.dispose();
  return { ...figure, detail: { ...figure.detail, buildMs: round(buildMs), coldMs: round(coldMs), lastDecodeMs: round(last.decodeMs), lastForwardAndStatsMs: round(last.forwardMs) } };
}

/** The paper's AlexNet trained at batch 32 (SGD, momentum 0.9, weight decay 5e-4, dropout) on random images. */
async function alexnetTrain(ctx: MeasureContext): Promise<Figure> {
  const spec = getModelSpec('alexnet');
  checkMemory(estimateTrainingMemory(spec, 32, SGD_PAPER), memoryLimitFor(tf.getBackend()), spec.id);
  const parts = trainingParts('alexnet', {}, SGD_PAPER);
  const { x, labels } = randomBatch(32, parts.spec.input, parts.spec.classes, -1, 1);
  const figure = await timedLoop({
    measure: 'alexnet-train', warmup: 1, seconds: ctx.seconds, minSteps: 2, capSeconds: ctx.capSeconds, perStep: 32, unit: 'images/s',
    step: makeStep(parts, x, labels, false), sync: syncOn(parts),
  });
  dispose(parts, x, labels);
  return figure;
}

export const MEASURES: Record<string, Measure> = {
  'lenet-step': { title: 'LeNet-5 training, batch 128, SGD: engine step, no read-back', training: true, cap: 60, run: lenetStep('tanh', false, 'lenet-step') },
  'lenet-train': { title: 'LeNet-5 training, batch 128, SGD: the Trainer on MNIST (logs, read-backs)', training: true, cap: 60, run: (ctx) => lenetTrainer(ctx) },
  'lenet-step-dp': { title: `LeNet-5 training step, data-parallel on ${DATA_PARALLEL_WAYS} threads`, training: true, cap: 60, run: dataParallelStep('lenet5', 128, SGD_NOTEBOOK, 0, 255, 'lenet-step-dp', (n, lo, hi) => uniform(n, lo, hi, 1)) },
  'lenet-train-dp': { title: `LeNet-5 training: the Trainer on MNIST, data-parallel on ${DATA_PARALLEL_WAYS} threads`, training: true, cap: 60, run: (ctx) => onOneThread(() => lenetTrainer(ctx, DATA_PARALLEL_WAYS)) },
  'lenet-step-readback': { title: 'LeNet-5 step with the loss read back every batch', training: true, cap: 60, run: lenetStep('tanh', true, 'lenet-step-readback') },
  'lenet-step-relu': { title: 'LeNet-5 step, ReLU (conv/dense fused with bias + activation)', training: true, cap: 60, run: lenetStep('relu', false, 'lenet-step-relu') },
  'lenet-profile': { title: 'LeNet-5 training step, kernel time (tf.profile)', training: true, cap: 60, run: lenetProfile },
  'lenet-infer-1': { title: 'LeNet-5 inference latency, batch 1', training: false, cap: 60, run: lenetInfer(1, 'lenet-infer-1') },
  'lenet-infer-256': { title: 'LeNet-5 inference throughput, batch 256', training: false, cap: 60, run: lenetInfer(256, 'lenet-infer-256') },
  'matmul-peak': { title: '512x512 matmul (attainable GFLOP/s on this backend)', training: false, cap: 60, run: matmulPeak },
  'alexnet-inspect': { title: 'AlexNet single-image inspect, warm (median)', training: false, cap: 120, run: alexnetInspect },
  'alexnet-train': { title: 'AlexNet training, batch 32, SGD momentum', training: true, cap: 180, run: alexnetTrain },
  'alexnet-train-dp': { title: `AlexNet training, batch 32, data-parallel on ${DATA_PARALLEL_WAYS} threads`, training: true, cap: 180, run: dataParallelStep('alexnet', 32, SGD_PAPER, -1, 1, 'alexnet-train-dp', (n, lo, hi) => uniform(n, lo, hi, 1)) },
};

export const LENET_MEASURES = ['lenet-step', 'lenet-train', 'lenet-step-dp', 'lenet-train-dp', 'lenet-step-readback', 'lenet-step-relu', 'lenet-profile', 'lenet-infer-1', 'lenet-infer-256', 'matmul-peak'];
/** Measures that only make sense on one backend. */
export const ONLY_ON: Record<string, string> = { 'lenet-step-dp': 'wasm', 'lenet-train-dp': 'wasm', 'alexnet-train-dp': 'wasm' };
export const ALEXNET_MEASURES = ['alexnet-inspect', 'alexnet-train', 'alexnet-train-dp'];
