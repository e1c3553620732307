// startTraining, pause/resume/stopTraining, resumeRun, subscribeRun, watchRuns: Trainers running in the
// background of the engine process, one LiveRun each.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import type { EpochRecord, TrainingConfig } from '../../contract/training';
import type { BackendKind } from '../backend';
import { getModelSpec, type ModelSpec } from '../models';
import { defaultConfig, RUN_FILES, resumeRun, startRun, validateConfig, type PreparedData, type RunStatus, type TrainConfig, type TrainSplit } from '../train';
import { openTrainData } from '../train/open-data';
import { parseJsonLines } from '../train/json-lines';
import { readJson } from '../train/run-folder';
import type { EngineContext } from './context';
import { userError } from './errors';
import { processAlive } from './runs';

/** The spec a run folder keeps beside config.json (train/run.ts keeps the name private). */
const RUN_SPEC_FILE = 'spec.json';

type TrainingHandlers = Pick<
  EngineHandlers,
  'startTraining' | 'pauseTraining' | 'resumeTraining' | 'stopTraining' | 'resumeRun' | 'subscribeRun' | 'watchRuns'
>;

export function trainingHandlers(ctx: EngineContext): TrainingHandlers {
  return {
    // Returns once the run folder is made and the data are open; training goes on in the background.
    startTraining: async ({ config }) => {
      const backend = await ctx.backend.forRun(config.backend, ctx.runs.live().length);
      const train = trainConfig(config, backend);
      validateConfig(train);
      const data = yielding(await openTrainData(train, getModelSpec(train.model.id, train.model.overrides)));
      const trainer = await startRun(train, { runsDir: ctx.runsDir, argv: ctx.argv, data });
      const run = ctx.runs.add(trainer, []);
      return { runId: run.runId, runDir: run.runDir };
    },

    pauseTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).pause(signal) }),
    resumeTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).resume(signal) }),
    stopTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).stop(signal) }),

    // By default on the engine's backend (resumeRun alone would pick the run's last one).
    resumeRun: async ({ runDir, backend }) => {
      const dir = path.resolve(runDir);
      const live = ctx.runs.byDir(dir);
      if (live?.live) throw userError(`${dir} is already training in this engine as run '${live.runId}' (${live.state})`, 'run-live');
      await refuseIfTrainedElsewhere(dir);
      const kind = await ctx.backend.forRun(backend, ctx.runs.live().length);
      const trainer = await resumeRun(dir, { backend: kind, argv: ctx.argv, data: yielding(await storedRunData(dir)) });
      // The epochs log is cut back to the checkpoint by now.
      const epochs = parseJsonLines<EpochRecord>(await readFile(path.join(dir, RUN_FILES.epochs), 'utf8').catch(() => ''));
      const run = ctx.runs.add(trainer, epochs);
      return { runId: run.runId, runDir: run.runDir };
    },

    subscribeRun: ({ runId }, sink) => {
      const run = ctx.runs.get(runId);
      // Snapshot and subscription in the same tick: every later event reaches the sink, none twice.
      const snapshot = { runId, runDir: run.runDir, state: run.state, progress: run.progress, epochs: [...run.epochs], warnings: [...run.warnings] };
      const unsubscribe = run.subscribe({ emit: (e) => sink.emit(e), end: (error) => sink.end(error) });
      sink.signal.addEventListener('abort', unsubscribe, { once: true });
      return snapshot;
    },

    watchRuns: (_params, sink) => {
      const unwatch = ctx.runs.watch((e) => sink.emit(e));
      sink.signal.addEventListener('abort', unwatch, { once: true });
      return { runs: ctx.runs.all().map((r) => ({ runId: r.runId, runDir: r.runDir, state: r.state })) };
    },
  };
}

/** The engine's TrainConfig: the contract's fields as given, the engine's defaults for the rest. */
export function trainConfig(given: TrainingConfig, backend: BackendKind): TrainConfig {
  const set = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<TrainConfig>;
  return { ...defaultConfig(given.model.id, given.dataset), ...set, model: { id: given.model.id, overrides: { ...given.model.overrides } }, backend };
}

/**
 * The data with a turn of the event loop before each batch. The trainer's steps otherwise chain only
 * promises that are already resolved (on the cpu and wasm backends), and the engine would answer no
 * request (pause, stop, inspect ...) until the run ends or writes a file.
 */
function yielding(prepared: PreparedData): PreparedData {
  const wrap = (split: TrainSplit): TrainSplit => ({
    size: split.size,
    batch: async (indices) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return split.batch(indices);
    },
  });
  const { data } = prepared;
  return { ...prepared, data: { ...data, train: wrap(data.train), test: data.test && wrap(data.test) } };
}

/** The run's data as resumeRun opens it: its config, its spec, its stored preprocessing. */
async function storedRunData(dir: string): Promise<PreparedData> {
  const config = await readJson<TrainConfig>(dir, RUN_FILES.config);
  const spec = await readJson<ModelSpec>(dir, RUN_SPEC_FILE);
  return openTrainData(config, spec, await readJson<unknown>(dir, RUN_FILES.preprocess));
}

/** Two processes must not train one folder: refuse while another live process says it trains it. */
async function refuseIfTrainedElsewhere(dir: string): Promise<void> {
  if (!existsSync(path.join(dir, RUN_FILES.status))) return;
  const status = await readJson<RunStatus>(dir, RUN_FILES.status);
  if ((status.state === 'running' || status.state === 'paused') && status.pid !== process.pid && processAlive(status.pid)) {
    throw userError(`${dir} is being trained by another process (pid ${status.pid}); stop it there first`, 'run-busy');
  }
}
