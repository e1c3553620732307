// Main's side of the engine: forks it as a utility process, hands each window one end of a
// MessageChannelMain (the other end goes to the engine, so page and engine talk directly), and when the
// engine dies restarts it, asks it to continue the runs that were training (from their last checkpoint),
// and gives the window a new port with a notice saying what happened.
import { MessageChannelMain, utilityProcess, type UtilityProcess, type WebContents } from 'electron';
import { EngineClient, RunTracker, SHELL_CHANNELS, type EngineNotice, type EnginePortMessage } from '../contract';
import { channelTransport, isControl } from './electron-ports';

/** More deaths than this within RESTART_WINDOW_MS: the engine is reported unavailable, not restarted again. */
export const MAX_RESTARTS = 3;
export const RESTART_WINDOW_MS = 60_000;
const SHUTDOWN_GRACE_MS = 10_000;

export interface EngineProcessOptions {
  /** The built engine entry (out/main/engine.js). */
  entry: string;
  args: string[];
  /** A new port (and a notice) is ready for the window after a restart, or the engine is gone for good. */
  onRestart(notice: EngineNotice): void;
  log?(line: string): void;
}

export class EngineProcess {
  /** Main's own connection: run tracking and resumes. */
  readonly client = new EngineClient();
  private readonly tracker = new RunTracker(this.client);
  private child: UtilityProcess | null = null;
  /** The child once it serves (null while starting or after it died). */
  private serving: UtilityProcess | null = null;
  private waiting: { contents: WebContents; notice?: EngineNotice }[] = [];
  private deaths: number[] = [];
  private stopping = false;
  private unavailable: EngineNotice | null = null;

  constructor(private readonly options: EngineProcessOptions) {}

  /** Forks the engine and resolves once it serves. */
  async start(): Promise<void> {
    await this.spawn();
    await this.tracker.watch();
  }

  /** Gives `contents` a direct port to the engine (as soon as it serves), with `notice` if there is news. */
  connect(contents: WebContents, notice?: EngineNotice): void {
    if (contents.isDestroyed()) return;
    if (this.unavailable) return contents.postMessage(SHELL_CHANNELS.enginePort, { notice: this.unavailable } satisfies EnginePortMessage);
    if (!this.serving) {
      this.waiting.push({ contents, notice });
      return;
    }
    const { port1, port2 } = new MessageChannelMain();
    this.serving.postMessage({ control: 'connect' }, [port1]);
    contents.postMessage(SHELL_CHANNELS.enginePort, (notice ? { notice } : {}) satisfies EnginePortMessage, [port2]);
  }

  /** Asks the engine to checkpoint its runs and exit; kills it after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.postMessage({ control: 'shutdown' });
    const timer = setTimeout(() => child.kill(), SHUTDOWN_GRACE_MS);
    await exited;
    clearTimeout(timer);
    this.client.close();
  }

  private spawn(): Promise<void> {
    const child = utilityProcess.fork(this.options.entry, this.options.args, { serviceName: 'ConvScope engine', stdio: 'inherit' });
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (!isControl(message, 'ready')) return;
        child.off('message', onMessage);
        this.client.attach(channelTransport(child));
        this.serving = child;
        for (const { contents, notice } of this.waiting.splice(0)) this.connect(contents, notice);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        child.off('message', onMessage);
        reject(new Error(`the engine exited with code ${code} before it was ready`));
      });
    });
    child.once('exit', (code) => void this.died(child, code));
    return ready;
  }

  private async died(child: UtilityProcess, code: number): Promise<void> {
    if (this.stopping || child !== this.child) return;
    this.child = null;
    this.serving = null;
    const reason = `the engine process exited (code ${code})`;
    this.options.log?.(reason);
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.deaths.length > MAX_RESTARTS) {
      this.unavailable = { type: 'engine-unavailable', reason: `${reason}; it died ${this.deaths.length} times within a minute, so it is not restarted again` };
      for (const { contents } of this.waiting.splice(0)) this.connect(contents);
      return this.options.onRestart(this.unavailable);
    }
    const interrupted = this.tracker.takeInterrupted();
    try {
      await this.spawn();
      const { resumed, resumeErrors } = await this.tracker.resume(interrupted);
      await this.tracker.watch();
      this.options.onRestart({ type: 'engine-restarted', reason, resumed, resumeErrors });
    } catch (err) {
      // The new engine died too; its own exit handler takes it from here.
      this.options.log?.(`engine restart failed: ${(err as Error).message}`);
    }
  }
}
