// Runs a recipe's arms (x seeds) as training runs in a shared store of run folders, keyed by their
// configuration without the epoch count: an arm already trained (by this or another experiment, e.g. the
// relu arm shared by `activation` and `dropout`) is reused, a shorter one is extended, an interrupted one
// resumes from its checkpoint.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DivergedError, readRun, resumeRun, startRun, type Progress, type TrainConfig } from '../train';
import type { EpochRecord } from '../train/metrics';
import type { LayerStatsRecord } from '../train/layer-stats';
import { RUN_FILES, writeJson } from '../train/run-folder';
import type { Arm, Recipe, RecipeOptions } from './recipes';
import { stalled } from './stats';

const OUTCOME_FILE = 'experiment-outcome.json';
/** Beside the run folder (which must start empty). */
const LOCK_SUFFIX = '.lock';
const LOCK_POLL_MS = 5_000;

export interface ArmRun {
  arm: Arm;
  seed: number;
  runDir: string;
  /** The first `epochs` epochs of the run (it may have trained longer for another experiment). */
  epochs: EpochRecord[];
  layerStats: LayerStatsRecord[];
  diverged: { step: number; epoch: number; loss: number } | null;
  /** The epoch from which the run no longer learned (see stats.stalled), or null. */
  stalled: { epoch: number; loss: number; accuracy: number } | null;
  reused: boolean;
  /** The backend of the run's last start or resume. */
  backend: string;
}

export interface ExperimentProgress {
  /** Steps done over all arms and seeds, and their total. */
  step: number;
  totalSteps: number;
  armIndex: number;
  arms: number;
  label: string;
  current: Progress | null;
}

export interface RunExperimentOptions extends RecipeOptions {
  seeds: number;
  backend: string;
  runsDir: string;
  argv?: string[];
  onProgress?: (p: ExperimentProgress) => void;
  /** Called before each arm with its run folder (e.g. to log it). */
  onArm?: (arm: Arm, seed: number, runDir: string, action: 'reuse' | 'resume' | 'start') => void;
}

/**
 * The key of a run in the store: its configuration without epochs (they only say how far to go), and
 * without settings added later where they hold their default (so runs stored before keep their key).
 */
export function runKey(config: TrainConfig): string {
  // Where and how a run executes (backend, threads, a kept previous checkpoint) never changes its results.
  const { epochs: _epochs, backend: _backend, threads: _threads, keepPreviousCheckpoint: _keepPrevious, loss, augment, storedSize, ...rest } = config;
  const keyed = {
    ...rest,
    ...(loss === 'logits' ? {} : { loss }),
    ...(augment === 'none' ? {} : { augment }),
    ...(storedSize === null ? {} : { storedSize }),
  };
  return createHash('sha256').update(stableJson(keyed)).digest('hex').slice(0, 10);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function armConfigs(recipe: Recipe, o: RunExperimentOptions): { arm: Arm; seed: number; config: TrainConfig; runDir: string }[] {
  const out = [];
  for (const arm of recipe.arms(o)) {
    for (let s = 1; s <= o.seeds; s++) {
      const config: TrainConfig = { ...arm.config, seed: s, backend: o.backend };
      out.push({ arm, seed: s, config, runDir: path.join(o.runsDir, `${config.model.id}-${arm.id}-s${s}-${runKey(config)}`) });
    }
  }
  return out;
}

export async function runExperiment(recipe: Recipe, o: RunExperimentOptions): Promise<ArmRun[]> {
  const plan = armConfigs(recipe, o);
  // A run's step count is known once it has opened its data; until then estimate from the limit (or MNIST's 60,000).
  const totals = plan.map(({ config: c }) => c.epochs * Math.ceil((c.limit ?? 60_000) / c.batchSize));
  const done = plan.map(() => 0);
  const results: ArmRun[] = [];

  // Runs another process holds (an experiment sharing the run) are deferred, then awaited.
  const pending = plan.map((_, i) => i);
  while (pending.length) {
    const free = pending.findIndex((i) => !lockedByOther(plan[i].runDir));
    if (free < 0) {
      await sleep(LOCK_POLL_MS);
      continue;
    }
    const [i] = pending.splice(free, 1);
    const { arm, seed, config, runDir } = plan[i];
    await mkdir(path.dirname(runDir), { recursive: true });
    const release = takeLock(runDir);
    if (!release) {
      pending.push(i);
      continue;
    }
    try {
    const label = `${arm.label}, seed ${seed}`;
    const report = (current: Progress | null) =>
      o.onProgress?.({
        step: done.reduce((a, b) => a + b, 0),
        totalSteps: totals.reduce((a, b) => a + b, 0),
        armIndex: i,
        arms: plan.length,
        label,
        current,
      });

    const outcome = await readOutcome(runDir);
    const record = existsSync(path.join(runDir, RUN_FILES.config)) ? await readRun(runDir) : null;
    const trained = record?.epochs.length ?? 0;
    let reused = false;
    if (outcome?.diverged || trained >= config.epochs) {
      reused = true;
      o.onArm?.(arm, seed, runDir, 'reuse');
    } else {
      const action = record ? 'resume' : 'start';
      o.onArm?.(arm, seed, runDir, action);
      if (record && record.config.epochs < config.epochs) {
        // Trained shorter for another experiment: extend it.
        await writeJson(runDir, RUN_FILES.config, { ...record.config, epochs: config.epochs });
      }
      const trainer = record ? await resumeRun(runDir, { backend: o.backend, argv: o.argv }) : await startRun(config, { runDir, argv: o.argv });
      const pump = (async () => {
        for await (const event of trainer.events) {
          if (event.type === 'progress') {
            totals[i] = event.progress.totalSteps;
            done[i] = event.progress.step;
            report(event.progress);
          }
        }
      })();
      try {
        await trainer.run();
      } catch (err) {
        if (!(err instanceof DivergedError)) throw err;
        await writeJson(runDir, OUTCOME_FILE, { diverged: { step: err.step, epoch: err.epoch, loss: String(err.loss) } });
      } finally {
        await pump;
        trainer.dispose();
      }
    }
    done[i] = totals[i];
    report(null);
    const final = await readRun(runDir);
    const diverged = (await readOutcome(runDir))?.diverged ?? null;
    const epochs = final.epochs.slice(0, config.epochs);
    results.push({
      arm,
      seed,
      runDir,
      epochs,
      stalled: stalled(epochs),
      layerStats: final.layerStats.filter((s) => s.epoch <= config.epochs),
      diverged: diverged && { step: diverged.step, epoch: diverged.epoch, loss: Number(diverged.loss) },
      reused,
      backend: await runBackend(runDir),
    });
    } finally {
      release();
    }
  }
  // In the recipe's order, whatever order they ran in.
  const order = (r: ArmRun) => plan.findIndex((p) => p.arm.id === r.arm.id && p.seed === r.seed);
  return results.sort((a, b) => order(a) - order(b));
}

interface Outcome {
  diverged?: { step: number; epoch: number; loss: string };
}

async function readOutcome(runDir: string): Promise<Outcome | null> {
  const file = path.join(runDir, OUTCOME_FILE);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Outcome) : null;
}

async function runBackend(runDir: string): Promise<string> {
  type Invocation = { backend?: { chosen?: string } };
  const cmd = JSON.parse(await readFile(path.join(runDir, RUN_FILES.command), 'utf8')) as Invocation & { resumes?: Invocation[] };
  return (cmd.resumes?.at(-1) ?? cmd).backend?.chosen ?? 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lockOwner(runDir: string): number | null {
  try {
    return Number(readFileSync(runDir + LOCK_SUFFIX, 'utf8')) || null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedByOther(runDir: string): boolean {
  const pid = lockOwner(runDir);
  return pid !== null && pid !== process.pid && alive(pid);
}

/** An exclusive lock on a run folder (a file holding our pid; a dead owner's lock is taken over). */
function takeLock(runDir: string): (() => void) | null {
  const file = runDir + LOCK_SUFFIX;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = lockOwner(runDir);
      if (owner !== null && alive(owner)) return null;
      rmSync(file, { force: true });
    }
  }
  return null;
}
