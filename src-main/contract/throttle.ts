// Training events paced for a UI: about 10 deliveries a second. Batch records are coalesced (all kept,
// several per event); progress, layer statistics and kernel snapshots keep only the latest of each
// interval; epoch ends, state changes, checkpoints and errors are never dropped or delayed, and go out
// after whatever was pending so the order stays true.
import type { SubscriptionMethod, EventOf } from './api';
import type { BatchRecord, TrainingEvent } from './training';

export const TRAINING_EVENT_INTERVAL_MS = 100;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface EventThrottle<E> {
  push(event: E): void;
  /** Sends what is pending now. */
  flush(): void;
  /** Flushes, then ignores later events. */
  close(): void;
}

type Latest = Extract<TrainingEvent, { type: 'progress' | 'layerStats' | 'kernels' }>;

export function createTrainingThrottle(
  send: (event: TrainingEvent) => void,
  options: { intervalMs?: number; timers?: Timers } = {},
): EventThrottle<TrainingEvent> {
  const interval = options.intervalMs ?? TRAINING_EVENT_INTERVAL_MS;
  const timers = options.timers ?? realTimers;
  let records: BatchRecord[] = [];
  const latest = new Map<Latest['type'], Latest>();
  let timer: unknown = null;
  let lastFlush = -Infinity;
  let closed = false;

  const flush = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (records.length === 0 && latest.size === 0) return;
    lastFlush = timers.now();
    if (records.length > 0) {
      const batch = records;
      records = [];
      send({ type: 'batches', records: batch });
    }
    // Fixed order: statistics and kernels of a step before the progress line that reports it.
    for (const type of ['layerStats', 'kernels', 'progress'] as const) {
      const event = latest.get(type);
      if (event) send(event);
    }
    latest.clear();
  };

  const schedule = () => {
    if (timer !== null) return;
    const delay = Math.max(0, lastFlush + interval - timers.now());
    timer = timers.setTimeout(flush, delay);
  };

  return {
    push(event) {
      if (closed) return;
      switch (event.type) {
        case 'batches':
          records.push(...event.records);
          schedule();
          return;
        case 'progress':
        case 'layerStats':
        case 'kernels':
          latest.set(event.type, event);
          schedule();
          return;
        default:
          flush();
          send(event);
      }
    },
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}

/** The pacing a subscription's events get on their way out of the engine host (none: sent as emitted). */
export function throttleFor<M extends SubscriptionMethod>(method: M, send: (event: EventOf<M>) => void): EventThrottle<EventOf<M>> {
  if (method === 'subscribeRun') return createTrainingThrottle(send as (event: TrainingEvent) => void) as unknown as EventThrottle<EventOf<M>>;
  return { push: send, flush: () => {}, close: () => {} };
}
