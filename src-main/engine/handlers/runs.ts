// listRuns, openRun: run folders read back, with the state of runs live in this engine.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import type { EpochRecord, RunDetail, RunStatus, RunSummary } from '../../contract/training';
import { BACKEND_KINDS } from '../backend';
import { isRunFolder, openKernelTimeline } from '../inspect';
import { readRun, RUN_FILES, KERNEL_INDEX, type BatchRecord, type RunStatus as EngineRunStatus, type TrainConfig } from '../train';
import { parseJsonLines } from '../train/json-lines';
import { readJson, readRunConfig } from '../train/run-folder';
import type { EngineContext } from './context';
import { layerStatsRecord, runStatus } from './convert';
import { notFound } from './errors';
import type { LiveRun } from './live-run';

type RunHandlers = Pick<EngineHandlers, 'listRuns' | 'openRun'>;

export function runHandlers(ctx: EngineContext): RunHandlers {
  return {
    listRuns: async ({ dir }) => {
      const where = path.resolve(dir ?? ctx.runsDir);
      const entries = await readdir(where, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        // The engine's own runs folder appears with the first run.
        if (err.code === 'ENOENT' && dir === undefined) return [];
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw notFound(`no folder at ${where}`);
        throw err;
      });
      const dirs = entries.filter((e) => e.isDirectory()).map((e) => path.join(where, e.name));
      if (dir === undefined) dirs.push(...(await openedRunDirs(ctx.openFolders)));
      const runs: RunSummary[] = [];
      for (const runDir of new Set(dirs)) {
        if (isRunFolder(runDir)) runs.push(await summarizeRun(runDir, ctx.runs.byDir(runDir)));
      }
      runs.sort((a, b) => (a.status.updatedAt < b.status.updatedAt ? 1 : a.status.updatedAt > b.status.updatedAt ? -1 : 0));
      return { dir: where, runs };
    },

    openRun: async ({ runDir }) => {
      const dir = path.resolve(runDir);
      if (!isRunFolder(dir)) throw notFound(`${dir} is not a run folder (no ${RUN_FILES.config})`);
      const record = await readRun(dir);
      const live = ctx.runs.byDir(dir);
      const kernels = existsSync(path.join(dir, RUN_FILES.kernels, KERNEL_INDEX)) ? openKernelTimeline(dir) : null;
      const detail: RunDetail = {
        runDir: dir,
        runId: live?.runId ?? null,
        config: storedConfig(record.config),
        status: await statusOf(dir, record.status, live),
        epochs: record.epochs,
        batches: batchColumns(record.batches, ctx.maxBatchRows),
        layerStats: record.layerStats.map(layerStatsRecord),
        kernelSnapshots: kernels?.snapshots.map((s, index) => ({ index, step: s.step, epoch: s.epoch })) ?? [],
        convLayers: kernels?.layers ?? [],
        hasCheckpoint: existsSync(path.join(dir, RUN_FILES.checkpoint)) || existsSync(path.join(dir, RUN_FILES.previousCheckpoint)),
      };
      return detail;
    },
  };
}

/** The opened folders that are run folders, and the folders inside the others (unreadable ones skipped). */
async function openedRunDirs(folders: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const folder of folders) {
    if (isRunFolder(folder)) {
      out.push(folder);
      continue;
    }
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    out.push(...entries.filter((e) => e.isDirectory()).map((e) => path.join(folder, e.name)));
  }
  return out;
}

async function summarizeRun(runDir: string, live: LiveRun | undefined): Promise<RunSummary> {
  const config = await readRunConfig(runDir);
  const disk = existsSync(path.join(runDir, RUN_FILES.status)) ? await readJson<EngineRunStatus>(runDir, RUN_FILES.status) : null;
  const epochs = parseJsonLines<EpochRecord>(await readFile(path.join(runDir, RUN_FILES.epochs), 'utf8').catch(() => ''));
  return {
    runDir,
    runId: live?.runId ?? null,
    modelId: config.model.id,
    dataset: config.dataset,
    status: await statusOf(runDir, disk, live),
    epochs: config.epochs,
    lastEpoch: epochs.at(-1) ?? null,
  };
}

/**
 * The run's state: a live run's own; a run whose status says it trains while no process of that id is
 * alive was interrupted (reported as stopped: resumeRun continues it); a folder without status never started.
 */
async function statusOf(runDir: string, disk: EngineRunStatus | null, live: LiveRun | undefined): Promise<RunStatus> {
  if (!disk) {
    const made = await stat(path.join(runDir, RUN_FILES.config));
    return { state: 'failed', updatedAt: made.mtime.toISOString(), globalStep: 0, epoch: 0, message: 'the run never started training' };
  }
  const status = runStatus(disk);
  if (live) return { ...status, state: live.state };
  if ((disk.state === 'running' || disk.state === 'paused') && !mayBeTraining(disk)) {
    return { ...status, state: 'stopped', message: `interrupted: the process training it (pid ${disk.pid}) ended without stopping it; resume it to continue from its last checkpoint` };
  }
  return status;
}

/** Whether the process a status says trains the run may still do so (a pid on another machine cannot be checked: yes). */
export function mayBeTraining(status: EngineRunStatus): boolean {
  if (status.state !== 'running' && status.state !== 'paused') return false;
  return onOtherHost(status) || processAlive(status.pid);
}

/** The status was written on another machine (the exported PyTorch trainer records its host). */
export function onOtherHost(status: EngineRunStatus): boolean {
  return status.host !== undefined && status.host !== os.hostname();
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stored config in the contract's terms (a backend name this version does not know is left out). */
function storedConfig(config: TrainConfig): RunDetail['config'] {
  const { backend, ...rest } = config;
  const known = backend === 'auto' || (BACKEND_KINDS as readonly string[]).includes(backend);
  return known ? { ...rest, backend: backend as NonNullable<RunDetail['config']['backend']> } : rest;
}

/** Batch records as columns; beyond `max` rows, consecutive groups averaged (step and epoch of the group's last batch). */
export function batchColumns(records: readonly BatchRecord[], max: number): RunDetail['batches'] {
  const groups = Math.min(records.length, max);
  const out = {
    step: new Int32Array(groups),
    epoch: new Int32Array(groups),
    loss: new Float32Array(groups),
    accuracy: new Float32Array(groups),
    lr: new Float32Array(groups),
  };
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * records.length) / groups);
    const to = Math.floor(((g + 1) * records.length) / groups);
    let loss = 0;
    let accuracy = 0;
    let size = 0;
    for (let i = from; i < to; i++) {
      loss += records[i].loss * records[i].size;
      accuracy += records[i].accuracy * records[i].size;
      size += records[i].size;
    }
    const last = records[to - 1];
    out.step[g] = last.step;
    out.epoch[g] = last.epoch;
    out.loss[g] = loss / size;
    out.accuracy[g] = accuracy / size;
    out.lr[g] = last.lr;
  }
  return out;
}
