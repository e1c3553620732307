// Faithfulness of attribution methods over many images: for each image the model's top class is
// explained by every method, and its deletion and insertion curves are taken; curves and areas are
// averaged. A seeded random map is measured beside them as the floor any method should beat.
import { tf } from '../../tf';
import { attribute } from './methods';
import { faithfulnessCurves, type CurveOptions, type DeletionFill } from './faithfulness';
import type { AttributionMethod } from './target';
import type { DatasetInputs } from './dataset-inputs';
import { InspectModelError } from '../errors';

export const RANDOM_REFERENCE = 'random';
export type EvaluatedMethod = AttributionMethod | typeof RANDOM_REFERENCE;

export interface MeanSd {
  mean: number;
  sd: number;
}

export interface MethodFaithfulness {
  method: EvaluatedMethod;
  layer: string | null;
  deletionAuc: MeanSd;
  insertionAuc: MeanSd;
  /** Mean curves over the images, at the fractions `xs` of the report. */
  deletion: number[];
  insertion: number[];
  /** Mean time to compute the map (not the curves), ms. */
  msPerMap: number;
}

export interface FaithfulnessReport {
  images: number;
  /** Share of the images whose top class is their label. */
  accuracy: number;
  stepSize: number;
  pixels: number;
  fill: DeletionFill;
  blurSigma: number;
  xs: number[];
  methods: MethodFaithfulness[];
}

export interface EvaluateAttributionOptions extends CurveOptions {
  limit: number;
  layer?: string;
  /** Inputs per pass for SmoothGrad, Integrated Gradients and Score-CAM. */
  methodBatchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

function meanSd(xs: number[]): MeanSd {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Deterministic uniform numbers for the random reference map of image i. */
function randomMap(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761 + 1) >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

export async function evaluateAttributions(model: tf.LayersModel, data: DatasetInputs, methods: AttributionMethod[], options: EvaluateAttributionOptions): Promise<FaithfulnessReport> {
  const total = Math.min(options.limit, data.count);
  const evaluated: EvaluatedMethod[] = [...methods, RANDOM_REFERENCE];
  const acc = new Map(evaluated.map((m) => [m, { del: [] as number[], ins: [] as number[], delSum: [] as number[], insSum: [] as number[], ms: 0, layer: null as string | null }]));
  const baseline = data.black();
  let correct = 0;
  let shape: { xs: number[]; stepSize: number; fill: DeletionFill; blurSigma: number; pixels: number } | null = null;
  try {
    for (let i = 0; i < total; i++) {
      const { x, labels } = await data.batch([i]);
      try {
        const out = tf.tidy(() => tf.argMax(tf.reshape(model.predict(x) as tf.Tensor, [-1])));
        const [top] = await out.data();
        const [label] = await labels.data();
        out.dispose();
        if (top === label) correct++;
        const [, height, width] = x.shape;
        for (const method of evaluated) {
          const t0 = performance.now();
          const map =
            method === RANDOM_REFERENCE
              ? { width, height, values: randomMap(height * width, i), classIndex: top, layer: undefined }
              : await attribute(method, model, x, { classIndex: top, layer: options.layer, baseline, batchSize: options.methodBatchSize });
          const a = acc.get(method)!;
          a.ms += performance.now() - t0;
          a.layer = map.layer ?? null;
          const curves = await faithfulnessCurves(model, x, map, top, options);
          shape ??= { xs: curves.deletion.xs, stepSize: curves.stepSize, fill: curves.fill, blurSigma: curves.blurSigma, pixels: height * width };
          a.del.push(curves.deletion.auc);
          a.ins.push(curves.insertion.auc);
          addInto(a.delSum, curves.deletion.ys);
          addInto(a.insSum, curves.insertion.ys);
        }
      } finally {
        tf.dispose([x, labels]);
      }
      options.onProgress?.(i + 1, total);
    }
  } finally {
    baseline.dispose();
  }
  if (!shape) throw new InspectModelError(`${data.dataset} has no held-out images to evaluate on`);
  return {
    images: total,
    accuracy: correct / total,
    ...shape,
    methods: evaluated.map((method) => {
      const a = acc.get(method)!;
      return {
        method,
        layer: a.layer,
        deletionAuc: meanSd(a.del),
        insertionAuc: meanSd(a.ins),
        deletion: a.delSum.map((v) => v / total),
        insertion: a.insSum.map((v) => v / total),
        msPerMap: a.ms / total,
      };
    }),
  };
}

function addInto(sum: number[], ys: number[]): void {
  ys.forEach((y, i) => (sum[i] = (sum[i] ?? 0) + y));
}
