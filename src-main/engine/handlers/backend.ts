// The engine process's one compute backend: started on first use (the option, else CONVSCOPE_BACKEND,
// else auto), switched only on request and only while no run is training.
import { describeBackend, initBackend, type BackendChoice, type BackendKind, type BackendReport } from '../backend';
import { userError } from './errors';

export class EngineBackend {
  private started: Promise<BackendReport> | null = null;

  /** onSwitch: called after another backend was started (cached models belong to the old one). */
  constructor(
    private readonly choice: BackendChoice | undefined,
    private readonly onSwitch: () => void,
  ) {}

  /** The running backend, starting it on first use (a failed start is retried by the next call). */
  ready(): Promise<BackendReport> {
    if (!this.started) {
      this.started = initBackend(this.choice);
      this.started.catch(() => (this.started = null));
    }
    return this.started;
  }

  /**
   * The backend a run asks for: its own choice when it names one other than the running backend (started
   * now, so only when nothing trains), else the running one. Returns the kind to record in the run's config.
   */
  async forRun(requested: BackendChoice | undefined, liveRuns: number): Promise<BackendKind> {
    const current = await this.ready();
    if (requested === undefined || requested === 'auto' || requested === current.chosen) return current.chosen;
    if (liveRuns > 0) {
      throw userError(
        `this engine trains on the ${current.chosen} backend and ${liveRuns} run${liveRuns === 1 ? ' is' : 's are'} live; ` +
          `a run on ${requested} would switch the whole engine: stop the live runs first, or leave the backend unset`,
        'backend-busy',
      );
    }
    const report = await initBackend(requested);
    this.started = Promise.resolve(report);
    this.onSwitch();
    return report.chosen;
  }
}

/** One line for people: the first line of describeBackend without its 'Backend: ' prefix. */
export function backendLine(report: BackendReport): string {
  return describeBackend(report).split('\n')[0].replace(/^Backend: /, '');
}
