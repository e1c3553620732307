// Which runs were training when the engine died, so its supervisor (the web host, Electron's main) can
// continue them from their last checkpoint once a new engine is up. A run the engine died on again soon
// after being resumed is not resumed a second time: it may be what kills the engine.
import type { EngineClient } from './client';
import type { RunHandle, RunState } from './training';
import type { EngineNotice } from './wire';

export const RESUME_AGAIN_AFTER_MS = 5 * 60_000;

type Restarted = Extract<EngineNotice, { type: 'engine-restarted' }>;

export class RunTracker {
  private readonly states = new Map<string, RunState>();
  private readonly resumedAt = new Map<string, number>();

  constructor(
    private readonly client: EngineClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Follows every run's state in the (new) engine; call after each engine start. */
  async watch(): Promise<void> {
    const reply = await this.client.subscribe('watchRuns', {}, { onEvent: (e) => this.states.set(e.runDir, e.state) });
    if (!reply.ok) throw new Error(`watchRuns failed: ${reply.error.message}`);
    for (const run of reply.result.result.runs) this.states.set(run.runDir, run.state);
  }

  /** When the engine has died: the run folders that were training at its last word (and forget its states). */
  takeInterrupted(): string[] {
    const dirs = [...this.states].filter(([, state]) => state === 'running').map(([dir]) => dir);
    this.states.clear();
    return dirs;
  }

  /** Asks the new engine to continue each of `dirs` from its checkpoint. */
  async resume(dirs: readonly string[]): Promise<Pick<Restarted, 'resumed' | 'resumeErrors'>> {
    const resumed: RunHandle[] = [];
    const resumeErrors: Restarted['resumeErrors'] = [];
    for (const runDir of dirs) {
      const last = this.resumedAt.get(runDir);
      if (last !== undefined && this.now() - last < RESUME_AGAIN_AFTER_MS) {
        resumeErrors.push({ runDir, message: 'not resumed again: the engine stopped while training it shortly after the last resume' });
        continue;
      }
      this.resumedAt.set(runDir, this.now());
      const reply = await this.client.call('resumeRun', { runDir });
      if (reply.ok) resumed.push(reply.result);
      else resumeErrors.push({ runDir, message: reply.error.message });
    }
    return { resumed, resumeErrors };
  }
}
