import { describe, expect, it } from 'vitest';
import { createTrainingThrottle, type TrainingEvent, type Timers } from '../../src-main/contract';

/** A clock the test moves by hand. */
function manualTimers() {
  let now = 0;
  const due: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      due.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = due.findIndex((d) => d.id === id);
      if (i >= 0) due.splice(i, 1);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      due.sort((a, b) => a.at - b.at);
      const next = due[0];
      if (!next || next.at > end) break;
      due.shift();
      now = next.at;
      next.fn();
    }
    now = end;
  };
  return { timers, advance };
}

const batch = (step: number): TrainingEvent => ({
  type: 'batches',
  records: [{ step, epoch: 1, batch: step, size: 64, loss: 2 / step, accuracy: 0.5, lr: 0.01, seconds: 0.001 }],
});
const progress = (step: number): TrainingEvent => ({
  type: 'progress',
  progress: { step, totalSteps: 1000, epoch: 1, epochs: 1, batch: step, batchesPerEpoch: 1000, fraction: step / 1000, imagesPerSecond: 64_000, etaSeconds: 1, loss: 2 / step },
});

describe('training-event throttle', () => {
  it('delivers about 10 times a second, coalescing batches without losing any', () => {
    const { timers, advance } = manualTimers();
    const sent: TrainingEvent[] = [];
    const throttle = createTrainingThrottle((e) => sent.push(e), { timers });
    // 1000 steps a second for 2 seconds, each with a batch record and a progress line.
    for (let step = 1; step <= 2000; step++) {
      throttle.push(batch(step));
      throttle.push(progress(step));
      advance(1);
    }
    throttle.flush();
    const batches = sent.filter((e) => e.type === 'batches');
    expect(batches.length).toBeGreaterThanOrEqual(19);
    expect(batches.length).toBeLessThanOrEqual(22);
    const steps = batches.flatMap((e) => (e.type === 'batches' ? e.records.map((r) => r.step) : []));
    expect(steps).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const progresses = sent.filter((e) => e.type === 'progress');
    expect(progresses.length).toBe(batches.length);
    // Only the latest progress of each interval goes out: the last one sent is the last step.
    expect(progresses.at(-1)).toEqual(progress(2000));
  });

  it('never drops or delays epoch ends and state changes, and keeps order around them', () => {
    const { timers, advance } = manualTimers();
    const sent: TrainingEvent[] = [];
    const throttle = createTrainingThrottle((e) => sent.push(e), { timers });
    throttle.push(batch(1));
    advance(0);
    throttle.push(batch(2));
    throttle.push(batch(3));
    throttle.push({ type: 'state', state: 'paused' });
    // Sent at once, after the pending batches 2 and 3.
    expect(sent.map((e) => e.type)).toEqual(['batches', 'batches', 'state']);
    expect(sent[1]).toEqual({ type: 'batches', records: [...(batch(2) as { records: unknown[] }).records, ...(batch(3) as { records: unknown[] }).records] });
    for (let i = 0; i < 50; i++) throttle.push({ type: 'state', state: i % 2 ? 'paused' : 'running' });
    throttle.push({ type: 'epoch', record: { epoch: 1, examples: 64, loss: 1, accuracy: 0.5, testLoss: null, testAccuracy: null, lr: 0.01, seconds: 1, trainSeconds: 1, imagesPerSecond: 64 } });
    throttle.push({ type: 'error', error: { code: 'internal', message: 'x' } });
    expect(sent.filter((e) => e.type === 'state')).toHaveLength(51);
    expect(sent.at(-2)?.type).toBe('epoch');
    expect(sent.at(-1)?.type).toBe('error');
  });

  it('sends pending events on close and nothing after', () => {
    const { timers, advance } = manualTimers();
    const sent: TrainingEvent[] = [];
    const throttle = createTrainingThrottle((e) => sent.push(e), { timers });
    throttle.push(batch(1));
    throttle.close();
    throttle.push(batch(2));
    throttle.push({ type: 'state', state: 'finished' });
    advance(1000);
    expect(sent).toEqual([batch(1)]);
  });
});
