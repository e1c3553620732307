// The runs live in this engine, by run id, and the watchers of their state changes.
import path from 'node:path';
import type { EpochRecord, RunStateEvent } from '../../contract/training';
import type { Trainer } from '../train';
import { notFound } from './errors';
import { LiveRun } from './live-run';

export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();
  private readonly watchers = new Set<(event: RunStateEvent) => void>();

  /** Starts trainer.run() in the background under a run id (the folder's name, made unique). */
  add(trainer: Trainer, epochs: EpochRecord[]): LiveRun {
    const runDir = trainer.runDir;
    const base = path.basename(runDir);
    let runId = base;
    for (let i = 2; this.runs.has(runId) && this.runs.get(runId)!.runDir !== runDir; i++) runId = `${base}-${i}`;
    const run = new LiveRun(runId, runDir, trainer, epochs, (r) => this.announce(r));
    this.runs.set(runId, run);
    this.announce(run);
    return run;
  }

  get(runId: string): LiveRun {
    const run = this.runs.get(runId);
    if (!run) throw notFound(`no run '${runId}' in this engine (runs: ${[...this.runs.keys()].join(', ') || 'none'})`);
    return run;
  }

  /** The run of that folder, if this engine has trained it. */
  byDir(runDir: string): LiveRun | undefined {
    const dir = path.resolve(runDir);
    return [...this.runs.values()].find((r) => path.resolve(r.runDir) === dir);
  }

  /** Runs still training (or paused). */
  live(): LiveRun[] {
    return [...this.runs.values()].filter((r) => r.live);
  }

  all(): LiveRun[] {
    return [...this.runs.values()];
  }

  watch(listener: (event: RunStateEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Stops every live run (each writes a checkpoint) and waits for them. */
  async stopAll(): Promise<void> {
    const never = new AbortController().signal;
    await Promise.all(this.live().map((r) => r.stop(never)));
  }

  private announce(run: LiveRun): void {
    const event: RunStateEvent = { type: 'run-state', runId: run.runId, runDir: run.runDir, state: run.state };
    for (const w of [...this.watchers]) w(event);
  }
}
