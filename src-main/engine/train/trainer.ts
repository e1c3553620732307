// The training loop as an in-process object: run() trains epoch by epoch from wherever the run folder's
// checkpoint says, writing metrics, kernel snapshots, layer statistics and checkpoints as it goes;
// pause(), resume() and stop() act between steps; every step of progress is an event.
import path from 'node:path';
import { tf } from '../tf';
import { layerKind } from '../models/layer-kind';
import { saveModel } from '../models/io';
import type { TrainConfig } from './config';
import { writeCheckpointFile, type CheckpointContent } from './checkpoint-file';
import { epochOrder } from './data-order';
import { DiskFullError, DivergedError, isDiskFull, RunFolderError, TrainConfigError } from './errors';
import { EventChannel } from './event-channel';
import { chainLayers, forward } from './forward';
import { JsonLines } from './json-lines';
import { KernelSnapshotStore } from './kernel-snapshots';
import { HISTOGRAM_FILE, HistogramRecorder } from './histograms';
import { gradientNormsByLayer, paramOwners, probeLayerStats, type LayerStatsRecord } from './layer-stats';
import { correctCounts, lossFunction } from './loss';
import { EMPTY_SUMS, type BatchRecord, type EpochRecord, type EpochSums, type Evaluation } from './metrics';
import { createOptimizer, type NamedArray, type Optimizer, type OptimizerState, type Param } from './optimizers';
import { createRandom, restoreRandom, type RngState, type SeededRandom } from './rng';
import { RUN_FILES, writeStatus, type RunState, type RunStatus } from './run-folder';
import { afterEpoch, initialSchedule, type ScheduleState } from './schedule';
import { dropoutSeed } from './seeds';
import { DataParallel, dataParallelRefusal } from './data-parallel';
import type { ModelSpec } from '../models';
import type { TrainData, TrainSplit } from './train-data';

export type TrainEvent =
  | { type: 'state'; state: RunState; message?: string }
  | { type: 'batch'; record: BatchRecord }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'kernels'; step: number; epoch: number; file: string }
  | { type: 'layerStats'; record: LayerStatsRecord }
  | { type: 'progress'; progress: Progress }
  | { type: 'checkpoint'; step: number; reason: CheckpointReason };

export type CheckpointReason = 'start' | 'interval' | 'epoch' | 'pause' | 'stop';

export interface Progress {
  step: number;
  totalSteps: number;
  /** 1-based */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batchesPerEpoch: number;
  fraction: number;
  /** Training examples per second of training loop in this epoch so far. */
  imagesPerSecond: number;
  /** Training time left at that rate (evaluations not counted); null before the first step. */
  etaSeconds: number | null;
  loss: number;
}

export interface TrainResult {
  runDir: string;
  backend: string;
  state: 'finished' | 'stopped';
  epochs: EpochRecord[];
}

/** Where the run stands: what a checkpoint must hold besides tensors. */
export interface Position {
  /** 0-based epoch in progress (== epochs when done). */
  epoch: number;
  /** Batches of that epoch already trained. */
  stepInEpoch: number;
  /** Batches trained over the whole run. */
  globalStep: number;
}

export interface CheckpointMeta {
  version: 1;
  savedAt: string;
  position: Position;
  /** The data-order PRNG's state at the start of position.epoch. */
  orderRng: RngState;
  /** The training augmentation's PRNG state now (absent when the data has no random augmentation). */
  augmentRng?: RngState;
  schedule: ScheduleState;
  optimizerIterations: number;
  epochSums: EpochSums;
  epochs: EpochRecord[];
  /** Sizes of the logs when the checkpoint was taken; a resume cuts them back to these. */
  logBytes: { batches: number; epochs: number; layerStats: number; histograms?: number };
}

export type Checkpoint = CheckpointContent<CheckpointMeta>;

export interface TrainerParts {
  runDir: string;
  config: TrainConfig;
  model: tf.LayersModel;
  data: TrainData;
  /** The backend tfjs runs on (tf.getBackend()). */
  backend: string;
  /** What the user should know before training (e.g. unreadable files the dataset skipped). */
  warnings?: string[];
  /** A checkpoint to continue from (resume); its logs must already be cut back to it. */
  from?: Checkpoint;
  /** Weight, activation and gradient histograms at the statistics cadence (default on, 16 MiB); false: none. */
  histograms?: { budgetBytes?: number } | false;
  /** Train on `ways` slices of each batch at once (worker threads building `spec`); absent or 1: not. */
  dataParallel?: { ways: number; spec: ModelSpec };
}

const PROGRESS_INTERVAL_MS = 200;

export class Trainer implements AsyncIterable<TrainEvent> {
  readonly events = new EventChannel<TrainEvent>();
  readonly runDir: string;
  readonly config: TrainConfig;
  readonly model: tf.LayersModel;
  readonly backend: string;
  readonly warnings: readonly string[];
  private readonly data: TrainData;
  private readonly layers: tf.layers.Layer[];
  private readonly params: Param[];
  private readonly owners: Map<string, string>;
  private readonly optimizer: Optimizer;
  private readonly logs: { batches: JsonLines; epochs: JsonLines; layerStats: JsonLines };
  private position: Position = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
  private orderRng: SeededRandom;
  private epochStartRng: RngState;
  private schedule: ScheduleState;
  private sums: EpochSums = { ...EMPTY_SUMS };
  private epochs: EpochRecord[] = [];
  private snapshots: KernelSnapshotStore | null = null;
  private probe: tf.Tensor4D | null = null;
  private readonly histograms: HistogramRecorder | null;
  /** Trainable layers' kernels (their largest weight): name and index into params. */
  private readonly kernels: { layer: string; param: number }[];
  private state: RunState | 'idle' = 'idle';
  private pauseRequested = false;
  private stopRequested = false;
  private wakeFromPause: (() => void) | null = null;
  private lastCheckpointAt = Date.now();
  /** The step of the checkpoint on disk (null before the first). */
  private checkpointStep: number | null = null;
  private lastProgressAt = 0;
  private readonly from: Checkpoint | undefined;
  private readonly dataParallel: TrainerParts['dataParallel'];
  private parallel: DataParallel | null = null;

  constructor(parts: TrainerParts) {
    this.runDir = parts.runDir;
    this.config = parts.config;
    this.model = parts.model;
    this.backend = parts.backend;
    this.warnings = parts.warnings ?? [];
    this.data = parts.data;
    this.from = parts.from;
    this.layers = chainLayers(parts.model);
    this.dataParallel = parts.dataParallel && parts.dataParallel.ways > 1 ? parts.dataParallel : undefined;
    const refusal = this.dataParallel && dataParallelRefusal(this.layers.map((l) => ({ name: l.name, kind: layerKind(l) })), parts.backend);
    if (refusal) throw new TrainConfigError(`${parts.model.name}: ${refusal}`);
    this.params = parts.model.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
    this.owners = paramOwners(this.layers);
    this.optimizer = createOptimizer(parts.config.optimizer);
    this.logs = {
      batches: new JsonLines(path.join(this.runDir, RUN_FILES.batches)),
      epochs: new JsonLines(path.join(this.runDir, RUN_FILES.epochs)),
      layerStats: new JsonLines(path.join(this.runDir, RUN_FILES.layerStats)),
    };
    this.histograms = parts.histograms === false ? null : new HistogramRecorder(path.join(this.runDir, HISTOGRAM_FILE), parts.histograms?.budgetBytes);
    this.kernels = this.layers.flatMap((layer) => {
      const own = this.params.map((p, i) => ({ p, i })).filter(({ p }) => this.owners.get(p.name) === layer.name);
      const largest = own.sort((a, b) => b.p.variable.size - a.p.variable.size)[0];
      return largest ? [{ layer: layer.name, param: largest.i }] : [];
    });
    this.orderRng = createRandom(parts.config.seed);
    this.epochStartRng = this.orderRng.getState();
    this.schedule = initialSchedule(parts.config.optimizer.lr);
    if (parts.from) this.restore(parts.from);
  }

  [Symbol.asyncIterator](): AsyncIterator<TrainEvent> {
    return this.events[Symbol.asyncIterator]();
  }

  on(listener: (event: TrainEvent) => void): () => void {
    return this.events.on(listener);
  }

  get currentState(): RunState | 'idle' {
    return this.state;
  }

  get currentPosition(): Position {
    return { ...this.position };
  }

  /** Pauses after the current step (a checkpoint is written first). */
  pause(): void {
    if (this.state === 'running') this.pauseRequested = true;
  }

  resume(): void {
    this.pauseRequested = false;
    this.wakeFromPause?.();
  }

  /** Stops after the current step, with a checkpoint: resumeRun(runDir) continues from there. */
  stop(): void {
    this.stopRequested = true;
    this.wakeFromPause?.();
  }

  /** Trains to the last epoch (or until stopped). Rejects with DivergedError if the loss stops being finite. */
  async run(): Promise<TrainResult> {
    if (this.state !== 'idle') throw new Error('Trainer.run: this trainer has already run');
    await this.setState('running');
    try {
      await this.prepare();
      const finished = await this.loop();
      if (finished) await this.snapshotKernels();
      await saveModel(this.model, path.join(this.runDir, RUN_FILES.model));
      await this.setState(finished ? 'finished' : 'stopped');
      return { runDir: this.runDir, backend: this.backend, state: finished ? 'finished' : 'stopped', epochs: [...this.epochs] };
    } catch (err) {
      if (isDiskFull(err)) {
        // Atomic writes leave the last checkpoint whole; the logs are cut back to it on resume.
        await this.setState('stopped', 'disk full').catch(() => undefined);
        throw new DiskFullError(this.runDir, this.checkpointStep ?? this.from?.meta.position.globalStep ?? null);
      }
      await this.setState('failed', (err as Error).message).catch(() => undefined);
      throw err;
    } finally {
      this.probe?.dispose();
      this.probe = null;
      await this.parallel?.dispose();
      this.parallel = null;
      this.events.close();
    }
  }

  /** Frees the model and optimizer tensors (after run(), once the caller no longer needs the model). */
  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }

  private restore(from: Checkpoint): void {
    const meta = from.meta;
    const saved = new Map(from.arrays.weights.map((w) => [w.name, w]));
    for (const w of this.model.weights) {
      const s = saved.get(w.originalName);
      if (!s) throw new RunFolderError(`the checkpoint in ${this.runDir} has no weight ${w.originalName}`);
      if (s.shape.join('x') !== w.shape.join('x')) throw new RunFolderError(`the checkpoint in ${this.runDir}: weight ${w.originalName} has shape ${s.shape.join('x')}, the model ${w.shape.join('x')}`);
      tf.tidy(() => {
        w.write(tf.tensor(s.values, s.shape, 'float32'));
      });
    }
    const optimizerState: OptimizerState = { iterations: meta.optimizerIterations, slots: from.arrays.optimizer ?? [] };
    this.optimizer.setState(this.params, optimizerState);
    this.position = { ...meta.position };
    this.orderRng = restoreRandom(meta.orderRng);
    this.epochStartRng = meta.orderRng;
    if (this.data.augment) {
      if (!meta.augmentRng) throw new RunFolderError('the checkpoint holds no augmentation state, but the run augments its training data');
      this.data.augment.setState(meta.augmentRng);
    }
    this.schedule = { ...meta.schedule };
    this.sums = { ...meta.epochSums };
    this.epochs = [...meta.epochs];
  }

  private async prepare(): Promise<void> {
    if (this.dataParallel) this.parallel = await DataParallel.start(this.dataParallel.ways, this.dataParallel.spec, this.config.seed, this.params);
    const kernels = await this.convKernels();
    this.snapshots = await KernelSnapshotStore.open(this.runDir, kernels, this.config.snapshotBudgetBytes);
    if (this.from) await this.snapshots.dropAfter(this.position.globalStep);
    const probeSplit = this.data.test ?? this.data.train;
    const probeSize = Math.min(this.config.probeSize, probeSplit.size);
    const probe = await probeSplit.batch(Array.from({ length: probeSize }, (_, i) => i));
    probe.labels.dispose();
    this.probe = probe.x;
    if (!this.from) {
      await this.snapshotKernels();
      await this.writeCheckpoint('start');
    }
  }

  /** True when every epoch ran, false when stopped. */
  private async loop(): Promise<boolean> {
    const { batchSize, epochs } = this.config;
    const size = this.data.train.size;
    const perEpoch = Math.ceil(size / batchSize);
    const totalSteps = perEpoch * epochs;
    while (this.position.epoch < epochs) {
      this.epochStartRng = this.orderRng.getState();
      const order = epochOrder(size, this.orderRng);
      for (let s = this.position.stepInEpoch; s < perEpoch; s++) {
        if (!(await this.control())) return false;
        const started = performance.now();
        const indices = order.subarray(s * batchSize, Math.min((s + 1) * batchSize, size));
        const { record, correct, correct5 } = await this.trainStep(indices, s + 1, s + 1 === perEpoch);
        this.sums = {
          examples: this.sums.examples + record.size,
          lossSum: this.sums.lossSum + record.loss * record.size,
          correct: this.sums.correct + correct,
          correct5: this.sums.correct5 + correct5,
          trainSeconds: this.sums.trainSeconds + (performance.now() - started) / 1000,
        };
        this.emitProgress(totalSteps, perEpoch, record.loss, s + 1 === perEpoch);
        if (this.checkpointDue()) await this.writeCheckpoint('interval');
      }
      await this.endEpoch();
    }
    return true;
  }

  /** One batch: forward with seeded dropout, loss, gradients, update, logs. */
  private async trainStep(indices: Uint32Array, batchInEpoch: number, lastOfEpoch: boolean): Promise<{ record: BatchRecord; correct: number; correct5: number }> {
    const started = performance.now();
    const step = this.position.globalStep + 1;
    const batch = await this.data.train.batch(indices, 'train');
    const { loss: lossValue, counts, grads } = await this.gradients(batch.x, batch.labels, step).finally(() => {
      batch.x.dispose();
      batch.labels.dispose();
    });
    try {
      if (!Number.isFinite(lossValue)) throw new DivergedError(step, this.position.epoch + 1, lossValue);
      const statsDue = this.config.statsEvery > 0 && (step % this.config.statsEvery === 0 || lastOfEpoch);
      const gradNorms = statsDue ? await gradientNormsByLayer(this.params.map((p) => p.name), grads, this.owners) : null;
      const kernelGrads = statsDue && this.histograms ? await Promise.all(this.kernels.map((k) => grads[k.param].data() as Promise<Float32Array>)) : null;
      this.optimizer.apply(this.params, grads, this.schedule.lr);
      const [correct, correct5] = counts;
      this.position = { ...this.position, stepInEpoch: batchInEpoch, globalStep: step };
      const record: BatchRecord = {
        step,
        epoch: this.position.epoch + 1,
        batch: batchInEpoch,
        size: indices.length,
        loss: lossValue,
        accuracy: correct / indices.length,
        lr: this.schedule.lr,
        seconds: (performance.now() - started) / 1000,
      };
      this.logs.batches.append(record);
      this.events.emit({ type: 'batch', record });
      if (gradNorms) await this.recordLayerStats(gradNorms, kernelGrads);
      if (this.config.snapshotEvery > 0 && step % this.config.snapshotEvery === 0) await this.snapshotKernels();
      return { record, correct, correct5 };
    } finally {
      tf.dispose(grads);
    }
  }

  /** The batch's mean loss, [top-1, top-5] correct counts and gradients (one per param, the caller's to dispose). */
  private async gradients(x: tf.Tensor, labels: tf.Tensor1D, step: number): Promise<{ loss: number; counts: [number, number]; grads: tf.Tensor[] }> {
    if (this.parallel) return this.parallel.step(this.layers, this.params, x, labels, { runSeed: this.config.seed, step, loss: this.config.loss });
    const { loss, counts, grads } = tf.tidy(() => {
      let kept: tf.Tensor1D | null = null;
      const result = tf.variableGrads(() => {
        const logits = forward(this.layers, x, { training: true, logits: true, dropoutSeed: (i) => dropoutSeed(this.config.seed, step, i) }) as tf.Tensor2D;
        kept = tf.keep(correctCounts(logits, labels));
        return lossFunction(this.config.loss)(logits, labels);
      }, this.params.map((p) => p.variable));
      return { loss: result.value, counts: kept! as tf.Tensor1D, grads: this.params.map((p) => result.grads[p.variable.name]) };
    });
    const [lossValue] = await loss.data();
    const [c1, c5] = await counts.data();
    tf.dispose([loss, counts]);
    return { loss: lossValue, counts: [c1, c5], grads };
  }

  private async endEpoch(): Promise<void> {
    const evalStarted = performance.now();
    const test = this.data.test ? await this.evaluate(this.data.test) : null;
    const evalSeconds = (performance.now() - evalStarted) / 1000;
    const s = this.sums;
    const topK = this.data.classes > 5;
    const record: EpochRecord = {
      epoch: this.position.epoch + 1,
      examples: s.examples,
      loss: s.lossSum / s.examples,
      accuracy: s.correct / s.examples,
      ...(topK ? { top5Accuracy: s.correct5 / s.examples } : {}),
      testLoss: test?.loss ?? null,
      testAccuracy: test?.accuracy ?? null,
      ...(topK ? { testTop5Accuracy: test?.top5Accuracy ?? null } : {}),
      lr: this.schedule.lr,
      seconds: s.trainSeconds + evalSeconds,
      trainSeconds: s.trainSeconds,
      imagesPerSecond: s.examples / s.trainSeconds,
    };
    this.epochs.push(record);
    this.logs.epochs.append(record);
    if (test) this.schedule = afterEpoch(this.config.schedule, this.schedule, 1 - test.accuracy);
    this.sums = { ...EMPTY_SUMS };
    this.position = { epoch: this.position.epoch + 1, stepInEpoch: 0, globalStep: this.position.globalStep };
    this.epochStartRng = this.orderRng.getState();
    this.events.emit({ type: 'epoch', record });
    await this.writeCheckpoint('epoch');
  }

  async evaluate(split: TrainSplit): Promise<Evaluation> {
    let lossSum = 0;
    let correct = 0;
    let correct5 = 0;
    for (let start = 0; start < split.size; start += this.config.batchSize) {
      const end = Math.min(start + this.config.batchSize, split.size);
      const batch = await split.batch(Array.from({ length: end - start }, (_, i) => start + i));
      const sums = tf.tidy(() => {
        const logits = forward(this.layers, batch.x, { training: false, logits: true }) as tf.Tensor2D;
        return tf.concat([tf.reshape(tf.mul(lossFunction(this.config.loss)(logits, batch.labels), end - start), [1]), correctCounts(logits, batch.labels)]);
      });
      const [l, c1, c5] = await sums.data();
      tf.dispose([sums, batch.x, batch.labels]);
      lossSum += l;
      correct += c1;
      correct5 += c5;
    }
    return { examples: split.size, loss: lossSum / split.size, accuracy: correct / split.size, top5Accuracy: correct5 / split.size };
  }

  /** Waits while paused; false when the run must stop. */
  private async control(): Promise<boolean> {
    // One turn of the event loop per step: on cpu and wasm a step awaits only settled promises, and
    // nothing else (a pause or stop request, Ctrl-C, another engine request) would run until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.pauseRequested && !this.stopRequested) {
      await this.writeCheckpoint('pause');
      await this.setState('paused');
      while (this.pauseRequested && !this.stopRequested) await new Promise<void>((r) => (this.wakeFromPause = r));
      this.wakeFromPause = null;
      if (!this.stopRequested) await this.setState('running');
    }
    if (this.stopRequested) {
      await this.writeCheckpoint('stop');
      return false;
    }
    return true;
  }

  private checkpointDue(): boolean {
    const everySteps = this.config.checkpointEverySteps;
    if (everySteps > 0 && this.position.globalStep % everySteps === 0) return true;
    return Date.now() - this.lastCheckpointAt >= this.config.checkpointEverySeconds * 1000;
  }

  private async writeCheckpoint(reason: CheckpointReason): Promise<void> {
    const weights: NamedArray[] = [];
    for (const w of this.model.weights) weights.push({ name: w.originalName, shape: [...w.shape] as number[], values: (await w.read().data()) as Float32Array });
    const optimizer = await this.optimizer.getState();
    const meta: CheckpointMeta = {
      version: 1,
      savedAt: new Date().toISOString(),
      position: this.position,
      orderRng: this.epochStartRng,
      // Checkpoints fall between steps and batches are not read ahead, so this is the state the next step starts from.
      ...(this.data.augment ? { augmentRng: this.data.augment.getState() } : {}),
      schedule: this.schedule,
      optimizerIterations: optimizer.iterations,
      epochSums: this.sums,
      epochs: this.epochs,
      logBytes: { batches: this.logs.batches.bytes, epochs: this.logs.epochs.bytes, layerStats: this.logs.layerStats.bytes, ...(this.histograms ? { histograms: this.histograms.bytes } : {}) },
    };
    const previous = this.config.keepPreviousCheckpoint ? path.join(this.runDir, RUN_FILES.previousCheckpoint) : undefined;
    await writeCheckpointFile(path.join(this.runDir, RUN_FILES.checkpoint), { meta, arrays: { weights, optimizer: optimizer.slots } }, previous);
    this.lastCheckpointAt = Date.now();
    this.checkpointStep = this.position.globalStep;
    this.events.emit({ type: 'checkpoint', step: this.position.globalStep, reason });
  }

  private async convKernels(): Promise<NamedArray[]> {
    const out: NamedArray[] = [];
    for (const layer of this.layers) {
      if (layerKind(layer) !== 'conv') continue;
      const kernel = layer.trainableWeights.find((w) => w.shape.length === 4);
      if (kernel) out.push({ name: layer.name, shape: [...kernel.shape] as number[], values: (await kernel.read().data()) as Float32Array });
    }
    return out;
  }

  private async snapshotKernels(): Promise<void> {
    if (!this.snapshots) return;
    const { globalStep, epoch } = this.position;
    if (this.snapshots.snapshots.some((s) => s.step === globalStep)) return;
    const entry = await this.snapshots.add(globalStep, epoch, await this.convKernels());
    this.events.emit({ type: 'kernels', step: globalStep, epoch, file: path.join(RUN_FILES.kernels, entry.file) });
  }

  private async recordLayerStats(gradNorms: Map<string, number>, kernelGrads: Float32Array[] | null): Promise<void> {
    if (!this.probe) return;
    const outputs = new Map<string, tf.Tensor>();
    const keepOutputs = kernelGrads ? new Set(this.kernels.map((k) => k.layer)) : new Set<string>();
    const record: LayerStatsRecord = {
      step: this.position.globalStep,
      epoch: this.position.epoch + 1,
      probeSize: this.probe.shape[0],
      layers: await probeLayerStats(this.layers, this.probe, gradNorms, (layer, out) => {
        if (keepOutputs.has(layer.name)) outputs.set(layer.name, tf.keep(out));
      }),
    };
    this.logs.layerStats.append(record);
    this.events.emit({ type: 'layerStats', record });
    if (this.histograms && kernelGrads) await this.recordHistograms(outputs, kernelGrads);
  }

  private async recordHistograms(outputs: Map<string, tf.Tensor>, kernelGrads: Float32Array[]): Promise<void> {
    try {
      const layers = [];
      for (const [i, k] of this.kernels.entries()) {
        const out = outputs.get(k.layer);
        layers.push({
          layer: k.layer,
          tensors: {
            weights: (await this.params[k.param].variable.data()) as Float32Array,
            ...(out ? { activations: (await out.data()) as Float32Array } : {}),
            gradients: kernelGrads[i],
          },
        });
      }
      this.histograms!.record(this.position.globalStep, this.position.epoch + 1, layers);
    } finally {
      tf.dispose([...outputs.values()]);
    }
  }

  private emitProgress(totalSteps: number, perEpoch: number, loss: number, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt = now;
    const { globalStep, epoch, stepInEpoch } = this.position;
    const size = this.data.train.size;
    const rate = this.sums.trainSeconds > 0 ? this.sums.examples / this.sums.trainSeconds : 0;
    const remainingExamples = (this.config.epochs - epoch - 1) * size + Math.max(0, size - stepInEpoch * this.config.batchSize);
    this.events.emit({
      type: 'progress',
      progress: {
        step: globalStep,
        totalSteps,
        epoch: epoch + 1,
        epochs: this.config.epochs,
        batch: stepInEpoch,
        batchesPerEpoch: perEpoch,
        fraction: globalStep / totalSteps,
        imagesPerSecond: rate,
        etaSeconds: rate > 0 ? remainingExamples / rate : null,
        loss,
      },
    });
  }

  private async setState(state: RunState, message?: string): Promise<void> {
    this.state = state;
    const status: RunStatus = { state, pid: process.pid, updatedAt: new Date().toISOString(), globalStep: this.position.globalStep, epoch: this.position.epoch, ...(message ? { message } : {}) };
    await writeStatus(this.runDir, status);
    this.events.emit({ type: 'state', state, ...(message ? { message } : {}) });
  }
}
