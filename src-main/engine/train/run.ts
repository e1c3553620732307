// Starting and resuming runs: backend, memory check, data, run folder, model; returns a ready Trainer.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import { initBackend } from '../backend';
import { MAX_WASM_THREADS } from '../backend/threads';
import { appVersion } from '../paths';
import { buildModel, getModelSpec, type ModelSpec } from '../models';
import { dataParallelRefusal } from './data-parallel';
import { validateConfig, type TrainConfig } from './config';
import { DiskFullError, isDiskFull, RunFolderError, TrainConfigError } from './errors';
import { JsonLines } from './json-lines';
import { checkMemory, estimateTrainingMemory, memoryLimitFor } from './memory';
import { describeInvocation, newRunDir, readJson, readRunConfig, removeTornFiles, RUN_FILES, writeJson, type CommandFile } from './run-folder';
import { openTrainData, type PreparedData } from './open-data';
import { checkpointToResume } from './resume-checkpoint';
import { HISTOGRAM_FILE } from './histograms';
import { Trainer, type TrainerParts } from './trainer';
import type { TrainSplit } from './train-data';

export interface StartOptions {
  /** Parent folder of new runs (default 'runs' in the working directory). */
  runsDir?: string;
  /** Exactly this run folder (created; must be empty if it exists). */
  runDir?: string;
  /** Recorded in command.json (default process.argv). */
  argv?: string[];
  /** Data to train on instead of opening config.dataset (tests, in-memory data). */
  data?: PreparedData;
  /** Histograms of weights, activations and gradients (default on, see Trainer); false: none. */
  histograms?: TrainerParts['histograms'];
  /** Data-parallel ways (see Trainer); above 1 the main thread's wasm backend runs on 1 thread. */
  dataParallel?: number;
}

export interface ResumeOptions {
  /** Another backend than the run's own (the losses then match only within float tolerance). */
  backend?: string;
  /** Threads of the wasm backend for this session (default: the run's config, else the engine's). */
  threads?: number;
  argv?: string[];
  data?: PreparedData;
  /** Continue from the checkpoint before the latest (offered when the latest fails its checksum). */
  fromPrevious?: boolean;
  /** Data-parallel ways for this session (the steps agree with 1 way to float tolerance). */
  dataParallel?: number;
}

/** What was trained on: dataset id, class names, example counts, held-out split. */
const DATASET_FILE = 'dataset.json';

export async function startRun(config: TrainConfig, options: StartOptions = {}): Promise<Trainer> {
  validateConfig(config);
  checkWays(options.dataParallel);
  let spec = getModelSpec(config.model.id, config.model.overrides);
  const report = await initBackend(config.backend, threadsOption(parallel(options.dataParallel) ? 1 : config.threads));
  const backend = tf.getBackend();
  refuseWays(options.dataParallel, spec, backend);
  checkMemory(estimateTrainingMemory(spec, config.batchSize, config.optimizer), memoryLimitFor(backend), spec.id);
  const prepared = limited(options.data ?? (await openTrainData(config, spec)), config);
  if (prepared.data.classes !== spec.classes) {
    if ('classes' in config.model.overrides) {
      throw new TrainConfigError(`the model has ${spec.classes} classes but ${config.dataset} has ${prepared.data.classes}`);
    }
    // The dataset decides the output layer unless the user fixed it.
    config = { ...config, model: { ...config.model, overrides: { ...config.model.overrides, classes: prepared.data.classes } } };
    spec = getModelSpec(config.model.id, config.model.overrides);
  }
  const runDir = options.runDir ?? (await newRunDir(options.runsDir ?? 'runs', spec.id));
  await writingTo(runDir, null, async () => {
    await mkdir(runDir, { recursive: true });
    if (readdirSync(runDir).length > 0) throw new RunFolderError(`run folder ${runDir} is not empty (use --resume to continue a run)`);
    await writeJson(runDir, RUN_FILES.config, config);
    await writeJson(runDir, RUN_FILES.spec, spec);
    await writeJson(runDir, RUN_FILES.preprocess, prepared.preprocess);
    if (prepared.dataset) await writeJson(runDir, DATASET_FILE, prepared.dataset);
    const command: CommandFile = { ...describeInvocation(withWays(report, options.dataParallel), versions(), options.argv), resumes: [] };
    await writeJson(runDir, RUN_FILES.command, command);
  });
  const model = buildRunModel(spec, config, prepared);
  return new Trainer({ runDir, config, model, data: prepared.data, backend, warnings: prepared.warnings, histograms: options.histograms, ...dataParallelPart(options.dataParallel, spec) });
}

/** Continues the run in `dir` from its newest intact checkpoint; later steps repeat an uninterrupted run's exactly (same backend). */
export async function resumeRun(dir: string, options: ResumeOptions = {}): Promise<Trainer> {
  if (!existsSync(dir)) throw new RunFolderError(`no run folder at ${dir}`);
  const config = await readRunConfig(dir);
  validateConfig(config);
  checkWays(options.dataParallel);
  const spec = await readJson<ModelSpec>(dir, RUN_FILES.spec);
  await removeTornFiles(dir);
  const checkpoint = await checkpointToResume(dir, options.fromPrevious);
  if (!checkpoint) throw new RunFolderError(`${dir} has no checkpoint to resume from`);
  const command = await readJson<CommandFile>(dir, RUN_FILES.command);
  // By default the backend the run last ran on, not config.backend ('auto' could pick another here).
  const lastBackend = ((command.resumes.at(-1) ?? command).backend as { chosen?: string } | null)?.chosen;
  const report = await initBackend(options.backend ?? lastBackend ?? config.backend, threadsOption(parallel(options.dataParallel) ? 1 : (options.threads ?? config.threads)));
  const backend = tf.getBackend();
  refuseWays(options.dataParallel, spec, backend);
  checkMemory(estimateTrainingMemory(spec, config.batchSize, config.optimizer), memoryLimitFor(backend), spec.id);
  const prepared = limited(options.data ?? (await openTrainData(config, spec, await readJson<unknown>(dir, RUN_FILES.preprocess))), config);
  const { logBytes } = checkpoint.meta;
  new JsonLines(path.join(dir, RUN_FILES.batches)).truncateTo(logBytes.batches);
  new JsonLines(path.join(dir, RUN_FILES.epochs)).truncateTo(logBytes.epochs);
  new JsonLines(path.join(dir, RUN_FILES.layerStats)).truncateTo(logBytes.layerStats);
  if (logBytes.histograms !== undefined) new JsonLines(path.join(dir, HISTOGRAM_FILE)).truncateTo(logBytes.histograms);
  command.resumes.push({ ...describeInvocation(withWays(report, options.dataParallel), versions(), options.argv), fromStep: checkpoint.meta.position.globalStep });
  await writingTo(dir, checkpoint.meta.position.globalStep, () => writeJson(dir, RUN_FILES.command, command));
  const model = buildRunModel(spec, config, prepared);
  return new Trainer({ runDir: dir, config, model, data: prepared.data, backend, warnings: prepared.warnings, from: checkpoint, ...dataParallelPart(options.dataParallel, spec) });
}

/** The run folder's writes, with a full disk reported as DiskFullError (one line naming the folder). */
async function writingTo<T>(runDir: string, checkpointStep: number | null, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isDiskFull(err)) throw new DiskFullError(runDir, checkpointStep);
    throw err;
  }
}

/** The model with what inspection needs stored in its saved model.json (class names, preprocessing). */
function buildRunModel(spec: ModelSpec, config: TrainConfig, prepared: PreparedData): tf.LayersModel {
  const model = buildModel(spec, { seed: config.seed });
  model.setUserDefinedMetadata({ preprocess: prepared.preprocess, ...(prepared.dataset ? { classNames: prepared.dataset.classNames } : {}) });
  return model;
}

/** The first `limit` training and `testLimit` test examples. */
function limited(prepared: PreparedData, config: TrainConfig): PreparedData {
  const cut = (split: TrainSplit, n: number | null): TrainSplit => (n === null || n >= split.size ? split : { size: n, batch: (indices, mode) => split.batch(indices, mode) });
  const { data } = prepared;
  return { ...prepared, data: { ...data, train: cut(data.train, config.limit), test: data.test && cut(data.test, config.testLimit) } };
}

function threadsOption(threads: number | null | undefined): { threads?: number } {
  return threads == null ? {} : { threads };
}

/** The backend report as command.json records it, with the data-parallel ways when above 1. */
function withWays<T extends object>(report: T, ways: number | undefined): T | (T & { dataParallel: number }) {
  return parallel(ways) ? { ...report, dataParallel: ways } : report;
}

function parallel(ways: number | undefined): ways is number {
  return ways !== undefined && ways > 1;
}

function checkWays(ways: number | undefined): void {
  if (ways !== undefined && !(Number.isInteger(ways) && ways >= 1 && ways <= MAX_WASM_THREADS)) {
    throw new TrainConfigError(`data-parallel ways must be a whole number from 1 to ${MAX_WASM_THREADS}, got ${ways}`);
  }
}

/** Refuses data parallelism before anything is written (the Trainer checks again for its other users). */
function refuseWays(ways: number | undefined, spec: ModelSpec, backend: string): void {
  const refusal = parallel(ways) ? dataParallelRefusal(spec.layers, backend) : null;
  if (refusal) throw new TrainConfigError(`${spec.id}: ${refusal}`);
}

function dataParallelPart(ways: number | undefined, spec: ModelSpec): { dataParallel?: { ways: number; spec: ModelSpec } } {
  return parallel(ways) ? { dataParallel: { ways, spec } } : {};
}

function versions(): Record<string, string> {
  return { convscope: appVersion(), tfjs: tf.version.tfjs };
}
