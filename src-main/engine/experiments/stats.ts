// Small statistics for reports: mean and spread across seeds, and when a difference is within noise.

export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

export type Verdict = 'lower' | 'higher' | 'inconclusive' | 'single seed';

/**
 * Compares b against a. With one seed each there is no spread to judge by; otherwise a difference
 * counts only when the ranges across seeds do not overlap and the means differ by more than two
 * standard errors of the difference.
 */
export function compare(a: Spread, b: Spread): Verdict {
  if (a.n < 2 || b.n < 2) return 'single seed';
  const se = Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
  const diff = b.mean - a.mean;
  const separated = b.min > a.max || b.max < a.min;
  if (!separated || Math.abs(diff) <= 2 * se) return 'inconclusive';
  return diff < 0 ? 'lower' : 'higher';
}

/** First epoch (1-based) whose value is at or below the threshold, or null. */
export function epochsToReach(values: readonly number[], threshold: number): number | null {
  const i = values.findIndex((v) => v <= threshold);
  return i < 0 ? null : i + 1;
}

/**
 * Where a run stopped learning for good: the same train loss (to 1e-4) in its last three epochs with a
 * training accuracy below one half. (Keras 2.2's clipped loss does this when the softmax saturates on
 * every example: each is clipped, so the gradient is exactly zero.) Null for a run that still moves.
 */
export function stalled(epochs: readonly { epoch: number; loss: number; accuracy: number }[]): { epoch: number; loss: number; accuracy: number } | null {
  const tail = epochs.slice(-3);
  if (tail.length < 3) return null;
  const flat = tail.every((e) => Math.abs(e.loss - tail[0].loss) < 1e-4);
  const last = tail[2];
  if (!flat || last.accuracy >= 0.5) return null;
  const first = epochs.findIndex((e) => Math.abs(e.loss - last.loss) < 1e-4);
  return { epoch: epochs[first].epoch, loss: last.loss, accuracy: last.accuracy };
}
