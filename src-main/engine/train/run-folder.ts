// A run folder's files: names, creation, and reading them back (for resume, the CLI and the app).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, TEMP_INFIX } from './atomic';
import { withConfigDefaults, type TrainConfig } from './config';
import { RunFolderError } from './errors';
import { parseJsonLines } from './json-lines';
import { KERNELS_DIR } from './kernel-snapshots';
import type { BatchRecord, EpochRecord } from './metrics';
import type { LayerStatsRecord } from './layer-stats';

export const RUN_FILES = {
  config: 'config.json',
  /** The model spec the run built (what inspection rebuilds it from). */
  spec: 'spec.json',
  command: 'command.json',
  status: 'status.json',
  /** The fitted preprocessor, as data: inspection of this run's model reuses it. */
  preprocess: 'preprocess.json',
  batches: 'batch.jsonl',
  epochs: 'epochs.jsonl',
  layerStats: 'layer-stats.jsonl',
  checkpoint: 'checkpoint.bin',
  /** The checkpoint before the latest (unless the config's keepPreviousCheckpoint is off): resume --from-previous. */
  previousCheckpoint: 'checkpoint.prev.bin',
  /** The final (or stopped) model, in the models module's folder format. */
  model: 'model',
  /**
   * The step-0 weights as a model folder, from trainers whose initialisation the seed does not rebuild (the
   * exported PyTorch trainer); ConvScope's own runs have none.
   */
  initial: 'initial',
  kernels: KERNELS_DIR,
} as const;

export type RunState = 'running' | 'paused' | 'stopped' | 'finished' | 'failed';

export interface RunStatus {
  state: RunState;
  /** The process training the run ('running' with a dead pid: the run was killed; resume it). */
  pid: number;
  updatedAt: string;
  globalStep: number;
  epoch: number;
  message?: string;
  /** The machine of `pid`, when another program (the exported PyTorch trainer) wrote the status. */
  host?: string;
}

/** One start or resume of the run: exactly how it was invoked and where. */
export interface Invocation {
  argv: string[];
  cwd: string;
  startedAt: string;
  /** Resumes only: the step the checkpoint had reached. */
  fromStep?: number;
  /** What the backend module reported (name, version, kernels, threads ...). */
  backend: unknown;
  versions: Record<string, string>;
  host: { hostname: string; platform: string; release: string; arch: string; cpus: number; cpuModel: string; totalMemoryBytes: number };
  /** Environment variables that change what TensorFlow.js or ConvScope do (others are not recorded). */
  env: Record<string, string>;
}

export interface CommandFile extends Invocation {
  resumes: Invocation[];
}

/** runs/20261128-023543-lenet5 under `parent`, with -2, -3 ... if taken. */
export async function newRunDir(parent: string, modelId: string, now = new Date()): Promise<string> {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = path.join(parent, `${stamp}-${modelId}`);
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    if (!existsSync(dir)) {
      await mkdir(dir, { recursive: true });
      return dir;
    }
  }
}

export function describeInvocation(backend: unknown, versions: Record<string, string>, argv: string[] = process.argv): Invocation {
  const cpus = os.cpus();
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => /^(CONVSCOPE_|TF_|TFJS_|NODE_OPTIONS$|OMP_NUM_THREADS$|CUDA_VISIBLE_DEVICES$)/.test(e[0]) && e[1] !== undefined),
  );
  return {
    argv: [...argv],
    cwd: process.cwd(),
    startedAt: new Date().toISOString(),
    backend,
    versions: { node: process.version, v8: process.versions.v8, ...versions },
    host: {
      hostname: os.hostname(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
    },
    env,
  };
}

export async function writeJson(dir: string, file: string, value: unknown): Promise<void> {
  await writeFileAtomic(path.join(dir, file), JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes status.json atomically; on a full disk (no room for the temporary file) it is rewritten in place
 * instead, which reuses the space of the old one, so a run stopped by ENOSPC still says so.
 */
export async function writeStatus(dir: string, status: RunStatus): Promise<void> {
  const text = JSON.stringify(status, null, 2) + '\n';
  try {
    await writeFileAtomic(path.join(dir, RUN_FILES.status), text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    await writeFile(path.join(dir, RUN_FILES.status), text);
  }
}

export async function readJson<T>(dir: string, file: string): Promise<T> {
  const full = path.join(dir, file);
  const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new RunFolderError(`${dir} is not a ConvScope run folder (no ${file})`);
    throw err;
  });
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RunFolderError(`${full} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Removes temporary files a killed writer left behind (they are never read). */
export async function removeTornFiles(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [runDir, path.join(runDir, KERNELS_DIR), path.join(runDir, RUN_FILES.model), path.join(runDir, RUN_FILES.initial)]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.includes(TEMP_INFIX) && !name.endsWith('.tmp')) continue;
      await rm(path.join(dir, name), { force: true });
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}

export interface RunRecord {
  dir: string;
  config: TrainConfig;
  status: RunStatus | null;
  epochs: EpochRecord[];
  batches: BatchRecord[];
  layerStats: LayerStatsRecord[];
}

/** A run's config.json, with fields added since it was written filled in. */
export async function readRunConfig(dir: string): Promise<TrainConfig> {
  return withConfigDefaults(await readJson<TrainConfig>(dir, RUN_FILES.config));
}

/** Everything a viewer needs from a run folder except the tensors. */
export async function readRun(dir: string): Promise<RunRecord> {
  const config = await readRunConfig(dir);
  const status = existsSync(path.join(dir, RUN_FILES.status)) ? await readJson<RunStatus>(dir, RUN_FILES.status) : null;
  const lines = async <T>(file: string) => parseJsonLines<T>(await readFile(path.join(dir, file), 'utf8').catch(() => ''));
  return {
    dir,
    config,
    status,
    epochs: await lines<EpochRecord>(RUN_FILES.epochs),
    batches: await lines<BatchRecord>(RUN_FILES.batches),
    layerStats: await lines<LayerStatsRecord>(RUN_FILES.layerStats),
  };
}
