// Training runs: the one the user watches (live, streamed from the engine, or opened from its folder),
// the list of past runs, and the datasets to train on.
import type { ErrorInfo } from '../../../src-main/contract/common';
import type { LayerKernel, SnapshotRef } from '../../../src-main/contract/inspect';
import type { DatasetInfo } from '../../../src-main/contract/system';
import type {
  EpochRecord,
  LayerStatsRecord,
  Progress,
  RunDetail,
  RunSnapshot,
  RunState,
  RunSummary,
  TrainingConfig,
  TrainingEvent,
} from '../../../src-main/contract/training';
import { describeError, HostError, type Subscription } from '../host/host';
import { host } from './connection.svelte';
import { models } from './models.svelte';

/**
 * Batch metrics as growing columns. A class, so Svelte does not proxy its (long) arrays: changes are
 * signalled by runs.tick instead.
 */
export class BatchColumns {
  constructor(
    readonly step: number[] = [],
    readonly loss: number[] = [],
    readonly accuracy: number[] = [],
  ) {}

  push(step: number, loss: number, accuracy: number): void {
    this.step.push(step);
    this.loss.push(loss);
    this.accuracy.push(accuracy);
  }
}

export interface WatchedRun {
  runDir: string;
  /** Set while the run lives in this engine (it can be paused, stopped, streamed). */
  runId: string | null;
  config: Partial<TrainingConfig> | null;
  state: RunState;
  message: string | null;
  progress: Progress | null;
  epochs: EpochRecord[];
  batches: BatchColumns;
  layerStats: LayerStatsRecord[];
  snapshots: SnapshotRef[];
  convLayers: string[];
  /** The kernels of the latest snapshot, as streamed during training (per layer). */
  liveKernels: Record<string, LayerKernel>;
  hasCheckpoint: boolean;
  warnings: string[];
  error: string | null;
}

export const runs = $state<{
  watched: WatchedRun | null;
  /** Bumped whenever the watched run's non-reactive columns change. */
  tick: number;
  list: RunSummary[];
  listDir: string | null;
  listError: string | null;
  listLoading: boolean;
  datasets: DatasetInfo[];
  datasetsError: string | null;
  /** Requests in flight (start, pause, ...): the buttons show it. */
  pending: string | null;
  actionError: string | null;
  /** A run whose latest checkpoint is damaged while the one before it is intact: the UI offers resuming from that. */
  previousOffer: string | null;
}>({
  watched: null,
  tick: 0,
  list: [],
  listDir: null,
  listError: null,
  listLoading: false,
  datasets: [],
  datasetsError: null,
  pending: null,
  actionError: null,
  previousOffer: null,
});

let subscription: Subscription<RunSnapshot> | null = null;

function emptyRun(runDir: string, runId: string | null): WatchedRun {
  return {
    runDir,
    runId,
    config: null,
    state: 'running',
    message: null,
    progress: null,
    epochs: [],
    batches: new BatchColumns(),
    layerStats: [],
    snapshots: [],
    convLayers: [],
    liveKernels: {},
    hasCheckpoint: false,
    warnings: [],
    error: null,
  };
}

export function isLive(run: WatchedRun | null): boolean {
  return !!run && !!run.runId && (run.state === 'running' || run.state === 'paused');
}

function apply(run: WatchedRun, event: TrainingEvent): void {
  switch (event.type) {
    case 'batches':
      for (const r of event.records) run.batches.push(r.step, r.loss, r.accuracy);
      runs.tick++;
      break;
    case 'epoch':
      run.epochs = [...run.epochs, event.record];
      break;
    case 'kernels': {
      run.snapshots = [...run.snapshots.filter((s) => s.index !== event.snapshot.index), event.snapshot];
      const next = { ...run.liveKernels };
      for (const k of event.kernels) next[k.layer] = k;
      run.liveKernels = next;
      for (const k of event.kernels) if (!run.convLayers.includes(k.layer)) run.convLayers = [...run.convLayers, k.layer];
      break;
    }
    case 'layerStats':
      run.layerStats = [...run.layerStats, event.record];
      break;
    case 'progress':
      run.progress = event.progress;
      break;
    case 'state':
      run.state = event.state;
      run.message = event.message ?? null;
      if (event.state !== 'running' && event.state !== 'paused') void loadRuns();
      break;
    case 'checkpoint':
      run.hasCheckpoint = true;
      break;
    case 'error':
      run.error = event.error.message;
      break;
  }
}

/** The run the user works with becomes the model the Activations and Kernels views look at. */
function focusRun(runDir: string): void {
  models.sourceKey = `run:${runDir}`;
}

async function watch(runId: string, runDir: string): Promise<void> {
  focusRun(runDir);
  subscription?.close();
  subscription = null;
  const run = emptyRun(runDir, runId);
  runs.watched = run;
  const watched = () => (runs.watched?.runId === runId ? runs.watched : null);
  const h = await host();
  const sub = await h.subscribe('subscribeRun', { runId }, {
    onEvent: (event) => {
      const r = watched();
      if (r) apply(r, event);
    },
    onEnd: (error?: ErrorInfo) => {
      const r = watched();
      if (r && error && error.code !== 'cancelled') r.error = error.code === 'closed' ? 'Lost the connection to the engine while watching this run.' : error.message;
    },
  });
  subscription = sub;
  const r = watched();
  if (!r) {
    sub.close();
    return;
  }
  r.state = sub.result.state;
  r.progress = sub.result.progress;
  r.epochs = sub.result.epochs;
  r.warnings = sub.result.warnings;
  // Catch up with what the run wrote before we subscribed (its folder has every record so far).
  try {
    const detail = await h.call('openRun', { runDir });
    const again = watched();
    if (again) mergeDetail(again, detail);
  } catch {
    // A run just started may not have its files yet; the live events carry on regardless.
  }
}

function mergeDetail(run: WatchedRun, detail: RunDetail): void {
  run.config = detail.config;
  run.convLayers = detail.convLayers;
  run.snapshots = detail.kernelSnapshots;
  run.hasCheckpoint = detail.hasCheckpoint;
  if (run.epochs.length < detail.epochs.length) run.epochs = detail.epochs;
  const seen = run.batches.step.length > 0 ? run.batches.step[0] : Infinity;
  const merged = new BatchColumns();
  for (let i = 0; i < detail.batches.step.length && detail.batches.step[i] < seen; i++) {
    merged.push(detail.batches.step[i], detail.batches.loss[i], detail.batches.accuracy[i]);
  }
  for (let i = 0; i < run.batches.step.length; i++) merged.push(run.batches.step[i], run.batches.loss[i], run.batches.accuracy[i]);
  run.batches = merged;
  const statsSeen = new Set(run.layerStats.map((s) => s.step));
  run.layerStats = [...detail.layerStats.filter((s) => !statsSeen.has(s.step)), ...run.layerStats].sort((a, b) => a.step - b.step);
  runs.tick++;
}

async function act(label: string, fn: () => Promise<void>): Promise<void> {
  runs.pending = label;
  runs.actionError = null;
  try {
    await fn();
  } catch (e) {
    runs.actionError = describeError(e);
  } finally {
    runs.pending = null;
  }
}

export function startTraining(config: TrainingConfig): Promise<void> {
  return act('start', async () => {
    const h = await host();
    const handle = await h.call('startTraining', { config });
    await watch(handle.runId, handle.runDir);
    const r = runs.watched;
    if (r && !r.config) r.config = config;
    void loadRuns();
  });
}

export function control(kind: 'pauseTraining' | 'resumeTraining' | 'stopTraining'): Promise<void> {
  const run = runs.watched;
  if (!run?.runId) return Promise.resolve();
  const runId = run.runId;
  return act(kind, async () => {
    const h = await host();
    const { state } = await h.call(kind, { runId });
    if (runs.watched?.runId === runId) runs.watched.state = state;
  });
}

/** Opens a run folder: live runs are streamed, others read back from disk. */
export function openRun(runDir: string): Promise<void> {
  return act('open', async () => {
    const h = await host();
    const detail = await h.call('openRun', { runDir });
    if (detail.runId && (detail.status.state === 'running' || detail.status.state === 'paused')) {
      await watch(detail.runId, runDir);
      return;
    }
    subscription?.close();
    subscription = null;
    focusRun(runDir);
    const run = emptyRun(runDir, detail.runId);
    readBack(run, detail);
    runs.watched = run;
    // Trained by another process (an exported PyTorch run, another engine): follow its files as they grow.
    // (runs.watched, not run: the store holds a reactive proxy of it, and follow compares identities.)
    if (!detail.runId && detail.status.state === 'running') follow(runs.watched);
  });
}

/** How often a run trained elsewhere is read again while its status says it trains (at least). */
export const FOLLOW_INTERVAL_MS = 2000;

/**
 * Re-reads the folder of `run` until it stops training or another run is watched. A long run's logs take
 * long to read: the pause is also at least three times the last read, so following never keeps the engine busy.
 */
function follow(run: WatchedRun, delay = FOLLOW_INTERVAL_MS): void {
  setTimeout(async () => {
    if (runs.watched !== run) return;
    const started = performance.now();
    try {
      const detail = await (await host()).call('openRun', { runDir: run.runDir });
      if (runs.watched !== run) return;
      readBack(run, detail);
      run.error = null;
    } catch (e) {
      if (runs.watched === run) run.error = describeError(e);
    }
    if (runs.watched === run && run.state === 'running') follow(run, Math.max(FOLLOW_INTERVAL_MS, 3 * (performance.now() - started)));
    else if (runs.watched === run) void loadRuns();
  }, delay);
}

/** The run as its folder has it now (every record replaced). */
function readBack(run: WatchedRun, detail: RunDetail): void {
  run.state = detail.status.state;
  run.message = detail.status.message ?? null;
  run.batches = new BatchColumns();
  run.layerStats = [];
  mergeDetail(run, detail);
  run.epochs = detail.epochs;
}

/** Continues a run from its latest checkpoint, or with `fromPrevious` from the one before it (offered when the latest is damaged). */
export function resumeRun(runDir: string, fromPrevious = false): Promise<void> {
  runs.previousOffer = null;
  return act('resume-run', async () => {
    const h = await host();
    try {
      const handle = await h.call('resumeRun', fromPrevious ? { runDir, fromPrevious } : { runDir });
      await watch(handle.runId, handle.runDir);
    } catch (e) {
      if (e instanceof HostError && e.info.reason === 'checkpoint-corrupt-previous-intact') runs.previousOffer = runDir;
      throw e;
    }
    void loadRuns();
  });
}

export async function loadRuns(): Promise<void> {
  runs.listLoading = true;
  try {
    const h = await host();
    const result = await h.call('listRuns', {});
    runs.list = [...result.runs].sort((a, b) => b.status.updatedAt.localeCompare(a.status.updatedAt));
    runs.listDir = result.dir;
    runs.listError = null;
  } catch (e) {
    runs.listError = describeError(e);
  } finally {
    runs.listLoading = false;
  }
}

export async function loadDatasets(): Promise<void> {
  try {
    const h = await host();
    runs.datasets = (await h.call('listDatasets', {})).datasets;
    runs.datasetsError = null;
  } catch (e) {
    runs.datasetsError = describeError(e);
  }
}

/** When the connection comes back, a live run's stream is picked up again. */
export function rewatch(): void {
  const run = runs.watched;
  if (run?.runId && isLive(run)) void watch(run.runId, run.runDir).catch((e) => (run.error = e instanceof HostError ? e.message : String(e)));
}
