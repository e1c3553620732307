// What a measuring child and the orchestrating parent share: the line protocol between them, and the
// timed loop (warm-up, then steps until the time is up, reporting partial figures as it goes).
import os from 'node:os';

/** Lines the child prints for the parent start with this mark; everything else is passed through as log. */
export const MARK = 'CONVSCOPE_BENCH ';

export type LoadAverage = [number, number, number];

export function loadAverage(): LoadAverage {
  const [a, b, c] = os.loadavg().map((v) => Math.round(v * 100) / 100);
  return [a, b, c];
}

/** A measured figure: images/s, or a latency in ms. */
export interface Figure {
  value: number;
  unit: 'images/s' | 'ms' | 'GFLOP/s';
  /** Timed steps (or calls) behind the figure, and the seconds they took. */
  steps: number;
  seconds: number;
  /** 1/5/15-minute load averages when the timed part started and when it ended. */
  loadBefore: LoadAverage;
  loadAfter: LoadAverage;
  /** The measure hit its time cap: the figure is partial. */
  tooSlow?: boolean;
  detail?: Record<string, unknown>;
}

export type ChildEvent =
  | { type: 'backend'; backend: string; tfBackend: string; versions: Record<string, string>; detail: Record<string, unknown> }
  | { type: 'unavailable'; backend: string; reason: string }
  | { type: 'start'; measure: string }
  | { type: 'partial'; measure: string; steps: number; seconds: number; perStep: number; unit: Figure['unit'] }
  | { type: 'result'; measure: string; figure: Figure }
  | { type: 'error'; measure: string; message: string };

export function emit(event: ChildEvent): void {
  process.stdout.write(MARK + JSON.stringify(event) + '\n');
}

export interface LoopOptions {
  measure: string;
  /** Untimed steps first (kernel compilation, caches, first allocations). */
  warmup: number;
  /** Time the loop for this long (at least minSteps steps). */
  seconds: number;
  minSteps?: number;
  /** Stop early, marked too slow, once warm-up plus timed steps pass this many seconds. */
  capSeconds: number;
  /** Images per step (1 for a latency figure). */
  perStep: number;
  unit: 'images/s' | 'ms';
  step: () => Promise<void> | void;
  /** Waits for the backend to finish queued work (asynchronous backends), inside the timed part. */
  sync?: () => Promise<void>;
}

/** Runs the loop; 'images/s' gives throughput, 'ms' the median time per step (min in detail). */
export async function timedLoop(o: LoopOptions): Promise<Figure> {
  const started = performance.now();
  const minSteps = o.minSteps ?? 1;
  const elapsed = () => (performance.now() - started) / 1000;
  for (let i = 0; i < o.warmup; i++) {
    await o.step();
    if (o.sync) await o.sync();
    if (elapsed() > o.capSeconds) break;
  }
  const loadBefore = loadAverage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const times: number[] = [];
  let lastReport = t0;
  for (;;) {
    const s = performance.now();
    await o.step();
    if (o.unit === 'ms' && o.sync) await o.sync();
    const now = performance.now();
    times.push(now - s);
    if (now - lastReport > 1000) {
      lastReport = now;
      emit({ type: 'partial', measure: o.measure, steps: times.length, seconds: (now - t0) / 1000, perStep: o.perStep, unit: o.unit });
    }
    const timed = (now - t0) / 1000;
    if (times.length >= minSteps && timed >= o.seconds) break;
    if (elapsed() >= o.capSeconds && times.length >= 1) break;
  }
  if (o.sync) await o.sync();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const tooSlow = times.length < minSteps || (elapsed() >= o.capSeconds && seconds < o.seconds);
  const sorted = [...times].sort((a, b) => a - b);
  const value = o.unit === 'images/s' ? (times.length * o.perStep) / seconds : sorted[Math.floor(sorted.length / 2)];
  return {
    value,
    unit: o.unit,
    steps: times.length,
    seconds,
    loadBefore,
    loadAfter: loadAverage(),
    ...(tooSlow ? { tooSlow } : {}),
    detail: {
      minMsPerStep: round(sorted[0], 3),
      medianMsPerStep: round(sorted[Math.floor(sorted.length / 2)], 3),
      // CPU time of the whole process (every thread): the cost of the work, whatever else the machine runs.
      perCpuSecond: round((times.length * o.perStep) / cpuSeconds, 2),
      cpuShare: round(cpuSeconds / seconds, 2),
    },
  };
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
