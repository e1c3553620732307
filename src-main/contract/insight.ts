// Insight jobs (issue 14): top activating patches of a channel, feature visualisation, nearest neighbours
// and the embedding map. Each is a subscription: the reply accepts the job, then progress events, then one
// 'done' event carrying the result, then the engine ends the subscription.
import * as v from 'valibot';
import { CountSchema, Float32ArraySchema, Int32ArraySchema, ModelRefSchema, NameSchema, PositiveIntSchema, Uint8TensorSchema } from './common';
import { DatasetIdSchema, ImageInputSchema, SplitSchema } from './inspect';

export const JobAcceptedSchema = v.strictObject({ accepted: v.literal(true) });

const ProgressSchema = v.strictObject({ kind: v.literal('progress'), stage: v.string(), done: CountSchema, total: CountSchema });

/** A job's events: progress, then its result. */
function jobEvent<R extends v.GenericSchema<unknown, unknown>>(result: R) {
  return v.variant('kind', [ProgressSchema, v.strictObject({ kind: v.literal('done'), result })]);
}

const WindowSchema = v.strictObject({ top: CountSchema, left: CountSchema, height: CountSchema, width: CountSchema });
const AxisFieldSchema = v.strictObject({ size: CountSchema, jump: CountSchema, start: v.pipe(v.number(), v.safeInteger()) });

export const TopPatchesParamsSchema = v.strictObject({
  model: ModelRefSchema,
  layer: NameSchema,
  /** Whose patches to return (the pass computes, and caches, every channel's). */
  channel: CountSchema,
  /** Default: the model's run's own dataset, else the built-in one it fits. */
  dataset: v.optional(DatasetIdSchema),
  split: v.optional(SplitSchema),
  k: v.optional(v.pipe(PositiveIntSchema, v.maxValue(64))),
  limit: v.optional(PositiveIntSchema),
});

export const TopPatchesResultSchema = v.strictObject({
  layer: v.string(),
  channel: CountSchema,
  channels: CountSchema,
  dataset: v.string(),
  split: SplitSchema,
  examples: CountSchema,
  cached: v.boolean(),
  field: v.strictObject({ y: AxisFieldSchema, x: AxisFieldSchema }),
  classNames: v.array(v.string()),
  patches: v.array(
    v.strictObject({
      value: v.number(),
      index: CountSchema,
      label: CountSchema,
      row: CountSchema,
      col: CountSchema,
      window: WindowSchema,
      /** The patch's stored pixels, [h, w, c]. */
      image: Uint8TensorSchema,
    }),
  ),
});
export type TopPatchesResult = v.InferOutput<typeof TopPatchesResultSchema>;
export const TopPatchesEventSchema = jobEvent(TopPatchesResultSchema);

export const VisualizeParamsSchema = v.strictObject({
  model: ModelRefSchema,
  objective: v.variant('kind', [
    v.strictObject({ kind: v.literal('channel'), layer: NameSchema, channel: CountSchema }),
    v.strictObject({ kind: v.literal('class'), classIndex: CountSchema }),
  ]),
  steps: v.optional(v.pipe(PositiveIntSchema, v.maxValue(4096))),
  seed: v.optional(CountSchema),
});

export const VisualizeResultSchema = v.strictObject({
  /** [h, w, c] */
  image: Uint8TensorSchema,
  steps: PositiveIntSchema,
  seed: CountSchema,
  history: Float32ArraySchema,
  final: v.number(),
  cached: v.boolean(),
});
export type VisualizeResult = v.InferOutput<typeof VisualizeResultSchema>;
export const VisualizeEventSchema = jobEvent(VisualizeResultSchema);

export const NeighboursParamsSchema = v.strictObject({
  model: ModelRefSchema,
  image: ImageInputSchema,
  dataset: v.optional(DatasetIdSchema),
  /** Where to look (default train). */
  split: v.optional(SplitSchema),
  /** Default: the last hidden layer. */
  layer: v.optional(NameSchema),
  k: v.optional(v.pipe(PositiveIntSchema, v.maxValue(100))),
  limit: v.optional(PositiveIntSchema),
});

export const NeighboursResultSchema = v.strictObject({
  layer: v.string(),
  dataset: v.string(),
  split: SplitSchema,
  predicted: CountSchema,
  classNames: v.array(v.string()),
  neighbours: v.array(v.strictObject({ index: CountSchema, label: CountSchema, distance: v.number() })),
  /** The neighbours' stored pixels, [k, h, w, c]. */
  images: Uint8TensorSchema,
  searchMs: v.number(),
});
export type NeighboursResult = v.InferOutput<typeof NeighboursResultSchema>;
export const NeighboursEventSchema = jobEvent(NeighboursResultSchema);

export const EmbeddingMethodSchema = v.picklist(['pca', 'umap']);
export type EmbeddingMethod = v.InferOutput<typeof EmbeddingMethodSchema>;

export const EmbeddingParamsSchema = v.strictObject({
  model: ModelRefSchema,
  dataset: v.optional(DatasetIdSchema),
  /** Default test. */
  split: v.optional(SplitSchema),
  layer: v.optional(NameSchema),
  limit: v.optional(PositiveIntSchema),
  /** An image to place on the map (projected on the same axes, or placed by UMAP's transform). */
  image: v.optional(ImageInputSchema),
  /** 'pca' (default: instant, linear) or 'umap' (seconds to tens of seconds; keeps clusters apart). */
  method: v.optional(EmbeddingMethodSchema),
});

export const EmbeddingResultSchema = v.pipe(
  v.strictObject({
    layer: v.string(),
    dataset: v.string(),
    split: SplitSchema,
    method: EmbeddingMethodSchema,
    classNames: v.array(v.string()),
    /** count x 2 */
    coords: Float32ArraySchema,
    labels: Int32ArraySchema,
    predicted: Int32ArraySchema,
    /** PCA: the share of the variance each axis explains; UMAP: empty. */
    explained: v.array(v.number()),
    mark: v.nullable(v.tuple([v.number(), v.number()])),
  }),
  v.check((r) => r.coords.length === 2 * r.labels.length && r.predicted.length === r.labels.length, 'coords, labels and predicted must describe the same points'),
);
export type EmbeddingResult = v.InferOutput<typeof EmbeddingResultSchema>;
export const EmbeddingEventSchema = jobEvent(EmbeddingResultSchema);
