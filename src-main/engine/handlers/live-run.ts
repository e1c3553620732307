// One training run live in this engine: its Trainer running in the background, its state, and the
// subscribers its events go to in the contract's shapes (unpaced: the host paces them, see throttle.ts).
import type { ErrorInfo } from '../../contract/common';
import { toErrorInfo } from '../../contract/errors';
import type { EpochRecord, Progress, RunState, TrainingEvent } from '../../contract/training';
import { loadKernelSnapshot, openKernelTimeline } from '../inspect';
import type { Trainer, TrainEvent } from '../train';
import { abortable } from './errors';
import { f32, layerStatsRecord } from './convert';

/** Kernels sent live with a snapshot event: layers of at most this many values (AlexNet's conv1 has 34,848). */
export const LIVE_KERNEL_VALUES = 65_536;

export interface RunSubscriber {
  emit(event: TrainingEvent): void;
  end(error?: ErrorInfo): void;
}

export class LiveRun {
  state: RunState = 'running';
  progress: Progress | null = null;
  readonly epochs: EpochRecord[];
  readonly warnings: string[];
  /** Set when the run failed. */
  error: ErrorInfo | null = null;
  /** Settles when the trainer is done (finished, stopped or failed) and every subscriber has been ended. */
  readonly done: Promise<void>;
  private settled = false;
  private readonly subscribers = new Set<RunSubscriber>();
  private readonly stateListeners = new Set<() => void>();
  /** Contract events go out in the trainer's order, though some take a file read to make. */
  private chain: Promise<void> = Promise.resolve();
  private readonly control: Pick<Trainer, 'pause' | 'resume' | 'stop'>;

  constructor(
    readonly runId: string,
    readonly runDir: string,
    trainer: Trainer,
    epochs: EpochRecord[],
    private readonly onStateChange: (run: LiveRun) => void,
  ) {
    this.epochs = [...epochs];
    this.warnings = [...trainer.warnings];
    this.control = trainer;
    trainer.on((event) => this.onEvent(event));
    this.done = trainer
      .run()
      .then(
        () => undefined,
        (err: unknown) => {
          this.error = toErrorInfo(err);
          if (this.state !== 'failed') this.setState('failed');
        },
      )
      .finally(() => trainer.dispose())
      .then(() => this.finish());
  }

  get live(): boolean {
    return !this.settled;
  }

  /** Pauses after the current step; resolves with the state once paused (or ended). */
  async pause(signal: AbortSignal): Promise<RunState> {
    if (this.state !== 'running') return this.state;
    this.control.pause();
    return this.waitFor((s) => s !== 'running', signal);
  }

  /** Continues a paused run (or cancels a pause not yet reached); resolves with the state once running. */
  async resume(signal: AbortSignal): Promise<RunState> {
    if (this.state === 'running') {
      this.control.resume();
      return this.state;
    }
    if (this.state !== 'paused') return this.state;
    this.control.resume();
    return this.waitFor((s) => s !== 'paused', signal);
  }

  /** Stops after the current step with a checkpoint; resolves with the final state. */
  async stop(signal: AbortSignal): Promise<RunState> {
    if (!this.settled) {
      this.control.stop();
      await abortable(this.done, signal);
    }
    return this.state;
  }

  /** Sends the run's later events to `subscriber` until it unsubscribes; an ended run ends it at once (after the caller's reply). */
  subscribe(subscriber: RunSubscriber): () => void {
    if (this.settled) {
      setImmediate(() => subscriber.end(this.error ?? undefined));
      return () => undefined;
    }
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  private waitFor(done: (state: RunState) => boolean, signal: AbortSignal): Promise<RunState> {
    let stop = () => {};
    const reached = new Promise<RunState>((resolve) => {
      const check = () => {
        if (!done(this.state) && !this.settled) return;
        this.stateListeners.delete(check);
        resolve(this.state);
      };
      stop = () => this.stateListeners.delete(check);
      this.stateListeners.add(check);
    });
    return abortable(reached, signal).finally(stop);
  }

  private setState(state: RunState): void {
    const changed = state !== this.state;
    this.state = state;
    if (changed) this.onStateChange(this);
    for (const listener of [...this.stateListeners]) listener();
  }

  private onEvent(event: TrainEvent): void {
    if (event.type === 'state') this.setState(event.state);
    else if (event.type === 'progress') this.progress = event.progress;
    else if (event.type === 'epoch') this.epochs.push(event.record);
    if (this.subscribers.size === 0) return;
    // Those subscribed now: a later subscriber's snapshot already includes this event.
    const targets = [...this.subscribers];
    this.chain = this.chain
      .then(() => this.toContract(event))
      .then((mapped) => {
        if (!mapped) return;
        // Each subscriber its own copy: a transport may transfer (detach) the typed arrays it sends.
        targets.filter((s) => this.subscribers.has(s)).forEach((s, i) => s.emit(i === 0 ? mapped : structuredClone(mapped)));
      })
      .catch(() => undefined);
  }

  private async toContract(event: TrainEvent): Promise<TrainingEvent | null> {
    switch (event.type) {
      case 'state':
        return { type: 'state', state: event.state, ...(event.message !== undefined ? { message: event.message } : {}) };
      case 'batch':
        return { type: 'batches', records: [event.record] };
      case 'epoch':
        return { type: 'epoch', record: event.record };
      case 'progress':
        return { type: 'progress', progress: event.progress };
      case 'checkpoint':
        return { type: 'checkpoint', step: event.step, reason: event.reason };
      case 'layerStats':
        return { type: 'layerStats', record: layerStatsRecord(event.record) };
      case 'kernels':
        return this.kernelsEvent(event.step);
    }
  }

  /** The snapshot at `step` with its small layers' kernels; null once thinning has dropped it. */
  private kernelsEvent(step: number): TrainingEvent | null {
    const timeline = openKernelTimeline(this.runDir);
    const index = timeline.snapshots.findIndex((s) => s.step === step);
    if (index < 0) return null;
    const kernels = loadKernelSnapshot(timeline, index)
      .filter((k) => k.values.length <= LIVE_KERNEL_VALUES)
      .map((k) => ({ layer: k.name, kernel: f32(k.shape, k.values.slice()) }));
    return { type: 'kernels', snapshot: { index, step, epoch: timeline.snapshots[index].epoch }, kernels };
  }

  private async finish(): Promise<void> {
    await this.chain;
    this.settled = true;
    for (const listener of [...this.stateListeners]) listener();
    const error = this.error ?? undefined;
    for (const s of [...this.subscribers]) {
      if (error) s.emit({ type: 'error', error });
      s.end(error);
    }
    this.subscribers.clear();
  }
}
