// The engine process's one compute backend: started on first use (the option, else CONVSCOPE_BACKEND,
// else auto), switched only on request and only while no run is training.
import { describeBackend, initBackend, type BackendChoice, type BackendKind, type BackendReport } from '../backend';
import { userError } from './errors';

export class EngineBackend {
  private started: Promise<BackendReport> | null = null;
  private report: BackendReport | null = null;

  /** onSwitch: called after another backend was started (cached models belong to the old one). */
  constructor(
    private readonly choice: BackendChoice | undefined,
    private readonly onSwitch: () => void,
  ) {}

  /** The running backend, starting it on first use (a failed start is retried by the next call). */
  ready(): Promise<BackendReport> {
    if (!this.started) {
      this.started = initBackend(this.choice);
      this.started.then((r) => (this.report = r)).catch(() => (this.started = null));
    }
    return this.started;
  }

  /** The wasm backend's thread count once it runs (undefined on other backends, or before the start). */
  threads(): number | undefined {
    return this.report?.threads;
  }

  /**
   * The backend a run asks for: its own choice (backend, wasm thread count) when it differs from the running
   * backend's (started now, so only when nothing trains), else the running one. Returns the kind to record
   * in the run's config.
   */
  async forRun(requested: BackendChoice | undefined, liveRuns: number, threads: number | null = null): Promise<BackendKind> {
    const current = await this.ready();
    const sameBackend = requested === undefined || requested === 'auto' || requested === current.chosen;
    const sameThreads = threads === null || current.threads === undefined || threads === current.threads;
    if (sameBackend && sameThreads) return current.chosen;
    const wanted = sameBackend ? current.chosen : requested;
    if (liveRuns > 0) {
      const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
      const [now, asked, setting] = sameBackend
        ? [plural(current.threads!, 'thread'), plural(threads!, 'thread'), 'thread count']
        : [`the ${current.chosen} backend`, requested, 'backend'];
      throw userError(
        `this engine trains on ${now} and ${liveRuns} run${liveRuns === 1 ? ' is' : 's are'} live; ` +
          `a run on ${asked} would switch the whole engine: stop the live runs first, or leave the ${setting} unset`,
        'backend-busy',
      );
    }
    const report = await initBackend(wanted, threads === null ? {} : { threads });
    this.started = Promise.resolve(report);
    this.report = report;
    this.onSwitch();
    return report.chosen;
  }
}

/** One line for people: the first line of describeBackend without its 'Backend: ' prefix. */
export function backendLine(report: BackendReport): string {
  return describeBackend(report).split('\n')[0].replace(/^Backend: /, '');
}
