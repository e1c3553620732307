// A run's weight, activation and gradient histograms over training (engine/train/histograms.ts), one
// layer at a time, for the Activation health view.
import * as v from 'valibot';
import { CountSchema, NameSchema, PathSchema } from './common';

export const HistogramSchema = v.strictObject({
  lo: v.number(),
  hi: v.number(),
  counts: v.array(v.number()),
  under: CountSchema,
  over: CountSchema,
  count: CountSchema,
  min: v.number(),
  max: v.number(),
});
export type HistogramData = v.InferOutput<typeof HistogramSchema>;

/** `layer` default: the first layer recorded. */
export const RunHistogramsParamsSchema = v.strictObject({ runDir: PathSchema, layer: v.optional(NameSchema) });

export const RunHistogramsResultSchema = v.strictObject({
  /** false: the run has no histograms.jsonl (runs from before histograms were recorded). */
  available: v.boolean(),
  layers: v.array(v.string()),
  layer: v.nullable(v.string()),
  /** Why recording stopped early (its disk budget), if it did. */
  stopped: v.nullable(v.string()),
  records: v.array(
    v.strictObject({
      step: CountSchema,
      epoch: CountSchema,
      weights: v.nullable(HistogramSchema),
      activations: v.nullable(HistogramSchema),
      gradients: v.nullable(HistogramSchema),
    }),
  ),
});
export type RunHistogramsResult = v.InferOutput<typeof RunHistogramsResultSchema>;
