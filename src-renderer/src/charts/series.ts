// Preparing long metric columns for charts: thinning to a drawable number of points, and smoothing.

/** At most `max` points, evenly spaced, always keeping the last. */
export function thin(xs: ArrayLike<number>, ys: ArrayLike<number>, max = 1500): { xs: number[]; ys: number[] } {
  const n = Math.min(xs.length, ys.length);
  if (n <= max) return { xs: Array.from({ length: n }, (_, i) => xs[i]), ys: Array.from({ length: n }, (_, i) => ys[i]) };
  const step = n / max;
  const ox: number[] = [];
  const oy: number[] = [];
  for (let k = 0; k < max - 1; k++) {
    const i = Math.floor(k * step);
    ox.push(xs[i]);
    oy.push(ys[i]);
  }
  ox.push(xs[n - 1]);
  oy.push(ys[n - 1]);
  return { xs: ox, ys: oy };
}

/** Exponential moving average (weight of the past `alpha`), skipping non-finite values. */
export function smooth(ys: ArrayLike<number>, alpha = 0.9): number[] {
  const out: number[] = [];
  let avg = NaN;
  let weight = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (Number.isFinite(y)) {
      // Debiased as in TensorBoard, so the first points are not pulled towards zero.
      avg = Number.isFinite(avg) ? alpha * avg + (1 - alpha) * y : (1 - alpha) * y;
      weight = alpha * weight + (1 - alpha);
    }
    out.push(weight > 0 ? avg / weight : NaN);
  }
  return out;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
