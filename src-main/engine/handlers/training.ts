// startTraining, pause/resume/stopTraining, resumeRun, subscribeRun, watchRuns: Trainers running in the
// background of the engine process, one LiveRun each.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import type { EpochRecord, TrainingConfig } from '../../contract/training';
import type { BackendKind } from '../backend';
import { defaultConfig, RUN_FILES, resumeRun, startRun, validateConfig, type RunStatus, type TrainConfig } from '../train';
import { parseJsonLines } from '../train/json-lines';
import { readJson } from '../train/run-folder';
import type { EngineContext } from './context';
import { userError } from './errors';
import { mayBeTraining, onOtherHost } from './runs';
import { resourcesDir } from '../paths';


type TrainingHandlers = Pick<
  EngineHandlers,
  'startTraining' | 'pauseTraining' | 'resumeTraining' | 'stopTraining' | 'resumeRun' | 'subscribeRun' | 'watchRuns'
>;

export function trainingHandlers(ctx: EngineContext): TrainingHandlers {
  return {
    // Returns once the run folder is made and the data are open; training goes on in the background.
    startTraining: async ({ config }) => {
      const backend = await ctx.backend.forRun(config.backend, ctx.runs.live().length, config.threads ?? null);
      const train = trainConfig(config, backend);
      validateConfig(train);
      const trainer = await startRun(train, { runsDir: ctx.runsDir, argv: ctx.argv });
      const run = ctx.runs.add(trainer, []);
      return { runId: run.runId, runDir: run.runDir };
    },

    pauseTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).pause(signal) }),
    resumeTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).resume(signal) }),
    stopTraining: async ({ runId }, { signal }) => ({ runId, state: await ctx.runs.get(runId).stop(signal) }),

    // By default on the engine's backend (resumeRun alone would pick the run's last one).
    resumeRun: async ({ runDir, backend, threads, fromPrevious }) => {
      const dir = path.resolve(runDir);
      const live = ctx.runs.byDir(dir);
      if (live?.live) throw userError(`${dir} is already training in this engine as run '${live.runId}' (${live.state})`, 'run-live');
      if (!path.relative(resourcesDir(), dir).startsWith('..')) throw userError(`${dir} is a run shipped with ConvScope and stays as it is; start a new training instead`, 'read-only');
      await refuseIfTrainedElsewhere(dir);
      const kind = await ctx.backend.forRun(backend, ctx.runs.live().length, threads ?? null);
      // The engine's thread count unless this resume names one (the run's own config is not consulted).
      const trainer = await resumeRun(dir, { backend: kind, threads: ctx.backend.threads(), argv: ctx.argv, fromPrevious });
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

/** Two processes must not train one folder: refuse while another live process says it trains it. */
async function refuseIfTrainedElsewhere(dir: string): Promise<void> {
  if (!existsSync(path.join(dir, RUN_FILES.status))) return;
  const status = await readJson<RunStatus>(dir, RUN_FILES.status);
  const thisProcess = !onOtherHost(status) && status.pid === process.pid;
  if (!thisProcess && mayBeTraining(status)) {
    const where = onOtherHost(status) ? ` on ${status.host}` : '';
    throw userError(`${dir} is being trained by another process (pid ${status.pid}${where}); stop it there first`, 'run-busy');
  }
}
