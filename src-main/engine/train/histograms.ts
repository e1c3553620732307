// Distributions over training (as TensorBoard's histograms): for every trainable layer, histograms of its
// kernel, of its output on the probe batch and of its kernel's gradient, at the layer-statistics cadence,
// appended to histograms.jsonl. Bins are fixed per layer and tensor from the first record (its range
// widened by half on each side); values outside them count in `under` / `over`, so counts always sum to
// the tensor's element count. Recording stops (and says so once) when the file would pass its budget.
import { existsSync, readFileSync } from 'node:fs';
import { JsonLines } from './json-lines';

export const HISTOGRAM_FILE = 'histograms.jsonl';
export const HISTOGRAM_BINS = 30;
/** Default disk budget of histograms.jsonl. */
export const HISTOGRAM_BUDGET_BYTES = 16 * 2 ** 20;

export type HistogramTensor = 'weights' | 'activations' | 'gradients';
export const HISTOGRAM_TENSORS: readonly HistogramTensor[] = ['weights', 'activations', 'gradients'];

export interface Histogram {
  /** Edges: lo + i * (hi - lo) / counts.length, i = 0 .. counts.length. */
  lo: number;
  hi: number;
  counts: number[];
  under: number;
  over: number;
  /** Elements counted: sum(counts) + under + over. */
  count: number;
  min: number;
  max: number;
}

export interface LayerHistograms {
  layer: string;
  weights?: Histogram;
  activations?: Histogram;
  gradients?: Histogram;
}

export interface HistogramRecord {
  step: number;
  epoch: number;
  layers: LayerHistograms[];
  /** On the last record only, when recording stopped at the budget: why (its layers are empty). */
  stopped?: string;
}

/** [lo, hi] for the first record: the data's range widened by half of it on each side (a small one around a constant). */
export function binRange(min: number, max: number): [number, number] {
  const range = max - min;
  const pad = range > 0 ? range / 2 : Math.max(Math.abs(min) * 0.5, 1e-3);
  return [min - pad, max + pad];
}

export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins = HISTOGRAM_BINS): Histogram {
  const counts = new Array<number>(bins).fill(0);
  let under = 0;
  let over = 0;
  let min = Infinity;
  let max = -Infinity;
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (v < lo) under++;
    else if (v >= hi) over++;
    else counts[Math.min(bins - 1, Math.floor((v - lo) * scale))]++;
  }
  return { lo, hi, counts, under, over, count: values.length, min, max };
}

function extent(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return [min, max];
}

/** Keeps each (layer, tensor)'s bins and writes records within the budget. */
export class HistogramRecorder {
  private readonly log: JsonLines;
  private readonly edges = new Map<string, [number, number]>();
  private full = false;

  constructor(
    file: string,
    private readonly budgetBytes = HISTOGRAM_BUDGET_BYTES,
  ) {
    this.log = new JsonLines(file);
    // A resumed run keeps the bins of its first record.
    const records = readHistograms(file) ?? [];
    this.full = records.at(-1)?.stopped !== undefined;
    for (const l of records[0]?.layers ?? []) {
      for (const t of HISTOGRAM_TENSORS) if (l[t]) this.edges.set(`${l.layer}/${t}`, [l[t]!.lo, l[t]!.hi]);
    }
  }

  get bytes(): number {
    return this.log.bytes;
  }

  /** Bins the tensors (layer -> tensor -> values) and appends one record, unless the budget is spent. */
  record(step: number, epoch: number, layers: { layer: string; tensors: Partial<Record<HistogramTensor, ArrayLike<number>>> }[]): HistogramRecord | null {
    if (this.full) return null;
    const record: HistogramRecord = {
      step,
      epoch,
      layers: layers.map(({ layer, tensors }) => {
        const out: LayerHistograms = { layer };
        for (const t of HISTOGRAM_TENSORS) {
          const values = tensors[t];
          if (!values || values.length === 0) continue;
          const key = `${layer}/${t}`;
          let edges = this.edges.get(key);
          if (!edges) this.edges.set(key, (edges = binRange(...extent(values))));
          out[t] = histogram(values, edges[0], edges[1]);
        }
        return out;
      }),
    };
    const size = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (this.log.bytes + size > this.budgetBytes) {
      this.full = true;
      // The marker line (a few dozen bytes) may pass the budget by its own length.
      this.log.append({ step, epoch, layers: [], stopped: `recording stopped at step ${step}: ${HISTOGRAM_FILE} reached its budget of ${(this.budgetBytes / 2 ** 20).toFixed(1)} MiB` });
      return null;
    }
    this.log.append(record);
    return record;
  }
}

/** The records of a run folder's histograms.jsonl; null when the run has none (runs from before they existed). */
export function readHistograms(file: string): HistogramRecord[] | null {
  if (!existsSync(file)) return null;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistogramRecord];
      } catch {
        return []; // a torn last line of a killed run
      }
    });
}
