// Looking inside a model: one image through every layer, conv kernels (now and over a run's training),
// dead ReLUs, and evaluation on a dataset.
import * as v from 'valibot';
import {
  CountSchema,
  Float32ArraySchema,
  Float32TensorSchema,
  ImageShapeSchema,
  Int32ArraySchema,
  ModelRefSchema,
  NameSchema,
  PathSchema,
  PositiveIntSchema,
  Uint32TensorSchema,
  Uint8ArraySchema,
  Uint8TensorSchema,
} from './common';
import { LayerKindSchema, NonlinearitySchema } from './models';

/** As training configs and the data registry name datasets: 'mnist', 'fashion-mnist', 'folder:/abs/path'. */
export const DatasetIdSchema = v.pipe(v.string(), v.minLength(1, 'a dataset id must not be empty'), v.maxLength(4200));
const FOLDER_PREFIX = 'folder:';

/** The folder a 'folder:PATH' dataset id names, as written (engine/data/folder-id.ts resolves it), else null. */
export function datasetFolder(id: string): string | null {
  return id.startsWith(FOLDER_PREFIX) ? id.slice(FOLDER_PREFIX.length) : null;
}

/** A dataset's training or held-out examples ('test': its test split, or the run's holdout where it has none). */
export const SplitSchema = v.picklist(['train', 'test']);
export type Split = v.InferOutput<typeof SplitSchema>;

export const MAX_IMAGE_BYTES = 64 * 2 ** 20;

/**
 * An image as its file's bytes (a drop, an upload), as a path the engine reads, or as one example of a
 * dataset split numbered as `evaluate` numbers them (default dataset: the model's run's own).
 */
export const ImageInputSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('bytes'),
    data: v.pipe(Uint8ArraySchema, v.check((d) => d.length > 0 && d.length <= MAX_IMAGE_BYTES, `image bytes must be 1 byte to ${MAX_IMAGE_BYTES / 2 ** 20} MiB`)),
    /** The file's name, for messages. */
    name: v.optional(v.pipe(v.string(), v.maxLength(1024))),
  }),
  v.strictObject({ kind: v.literal('path'), path: PathSchema }),
  v.strictObject({ kind: v.literal('example'), dataset: v.optional(DatasetIdSchema), split: SplitSchema, index: CountSchema }),
]);
export type ImageInput = v.InferOutput<typeof ImageInputSchema>;

export const InspectOptionsSchema = v.strictObject({
  /** Only these layers' outputs (default: every layer). */
  layers: v.optional(v.array(NameSchema)),
  /** How many predictions (default 5). */
  topK: v.optional(v.pipe(PositiveIntSchema, v.maxValue(1000))),
  /** Vanilla gradient saliency of the class (default off). */
  saliency: v.optional(v.boolean()),
  /** Grad-CAM of the class at this layer (default: off; true: the last spatial layer). */
  gradCam: v.optional(v.union([v.boolean(), v.strictObject({ layer: NameSchema })])),
  /** The class for saliency and Grad-CAM (default: the top prediction). */
  classIndex: v.optional(CountSchema),
});

export const InspectParamsSchema = v.strictObject({
  image: ImageInputSchema,
  model: ModelRefSchema,
  options: v.optional(InspectOptionsSchema),
});
export type InspectParams = v.InferOutput<typeof InspectParamsSchema>;

export const ActivationStatsSchema = v.object({ min: v.number(), max: v.number(), mean: v.number(), zeroFraction: v.number() });

export const LayerOutputSchema = v.object({
  /** The layer's name (suffixed @2 ... for further uses of a shared layer, :1 ... for extra outputs). */
  name: v.string(),
  /** tfjs class, e.g. 'Conv2D', 'GroupedConv2D', 'MaxPooling2D'. */
  className: v.string(),
  kind: LayerKindSchema,
  activation: NonlinearitySchema,
  /** The layer's output for the image, without the batch axis: [h, w, c] or [units]. */
  output: Float32TensorSchema,
  stats: ActivationStatsSchema,
});
export type LayerOutput = v.InferOutput<typeof LayerOutputSchema>;

export const PredictionSchema = v.object({ index: CountSchema, label: v.string(), prob: v.number() });
export const ScoreKindSchema = v.picklist(['logit', 'probability']);

export const InspectResultSchema = v.object({
  /** The image as the model sees it (decoded, resized, preprocessed): [h, w, c]. */
  input: Float32TensorSchema,
  /** The image as decoded, before preprocessing: [h, w, c] uint8, for display. */
  image: v.object({ width: PositiveIntSchema, height: PositiveIntSchema, channels: PositiveIntSchema }),
  layers: v.array(LayerOutputSchema),
  predictions: v.array(PredictionSchema),
  classNames: v.nullable(v.array(v.string())),
  /** [h, w] map of |d score / d input| (max over channels). */
  saliency: v.nullable(v.object({ classIndex: CountSchema, score: ScoreKindSchema, map: Float32TensorSchema })),
  gradCam: v.nullable(
    v.object({
      layer: v.string(),
      classIndex: CountSchema,
      score: ScoreKindSchema,
      /** At the layer's resolution: [h', w']. */
      map: Float32TensorSchema,
      /** Resized to the input: [h, w]. */
      upsampled: Float32TensorSchema,
    }),
  ),
});
export type InspectResult = v.InferOutput<typeof InspectResultSchema>;

export const LayerKernelSchema = v.object({
  layer: v.string(),
  /** [kh, kw, inChannels per group, filters]. */
  kernel: Float32TensorSchema,
});
export type LayerKernel = v.InferOutput<typeof LayerKernelSchema>;

export const KernelsParamsSchema = v.strictObject({
  model: ModelRefSchema,
  /** One conv layer (default: every conv layer). */
  layer: v.optional(NameSchema),
});
export const KernelsResultSchema = v.object({ layers: v.array(LayerKernelSchema) });

export const SnapshotRefSchema = v.object({ index: CountSchema, step: CountSchema, epoch: CountSchema });
export type SnapshotRef = v.InferOutput<typeof SnapshotRefSchema>;

export const KernelTimelineParamsSchema = v.strictObject({
  runDir: PathSchema,
  layer: NameSchema,
  /** Index into the run's snapshots, oldest first (default: the latest). */
  snapshot: v.optional(CountSchema),
});
export const KernelTimelineResultSchema = v.object({
  layer: v.string(),
  /** Every conv layer the snapshots hold. */
  layers: v.array(v.string()),
  snapshots: v.array(SnapshotRefSchema),
  /** [snapshots, filters]: each filter's L2 norm in each snapshot. */
  norms: Float32TensorSchema,
  /** The chosen snapshot's kernel, and its difference to the first snapshot. */
  snapshot: SnapshotRefSchema,
  kernel: Float32TensorSchema,
  difference: Float32TensorSchema,
});
export type KernelTimelineResult = v.InferOutput<typeof KernelTimelineResultSchema>;

export const DeadReluParamsSchema = v.strictObject({
  /** A run (its checkpoint) or any model. */
  model: ModelRefSchema,
  /** The probe images' dataset (default: the run's own, else the model's natural one). */
  dataset: v.optional(DatasetIdSchema),
  /** The first n test examples (default 256). */
  probeSize: v.optional(v.pipe(PositiveIntSchema, v.maxValue(100_000))),
});
export const DeadReluResultSchema = v.object({
  dataset: v.string(),
  probeSize: PositiveIntSchema,
  layers: v.array(
    v.object({
      layer: v.string(),
      channels: CountSchema,
      /** Per channel: fraction of probe images on which it is zero at every position. */
      deadFraction: Float32ArraySchema,
      /** Channels zero on every probe image. */
      dead: v.array(CountSchema),
    }),
  ),
});
export type DeadReluResult = v.InferOutput<typeof DeadReluResultSchema>;

export const EvaluateParamsSchema = v.strictObject({
  model: ModelRefSchema,
  dataset: DatasetIdSchema,
  /** Default 'test'. */
  split: v.optional(SplitSchema),
  /** The first n examples only. */
  limit: v.optional(PositiveIntSchema),
  batchSize: v.optional(v.pipe(PositiveIntSchema, v.maxValue(4096))),
});
export const EvaluateResultSchema = v.object({
  dataset: v.string(),
  split: SplitSchema,
  examples: CountSchema,
  classNames: v.array(v.string()),
  accuracy: v.number(),
  top1Error: v.number(),
  /** null with 5 classes or fewer. */
  top5Error: v.nullable(v.number()),
  /** [classes, classes], row = true class, column = predicted class. */
  confusion: Uint32TensorSchema,
  /** Per example: top-1 prediction and true label. */
  predicted: Int32ArraySchema,
  labels: Int32ArraySchema,
  /** The image shape of the dataset, so the UI can ask for example images. */
  shape: ImageShapeSchema,
});
export type EvaluateResult = v.InferOutput<typeof EvaluateResultSchema>;

export const MAX_EXAMPLES = 256;

/** Examples of a dataset split by their `evaluate` numbers (its split, holdout and order), for thumbnails. */
export const ExamplesParamsSchema = v.strictObject({
  /** Whose data: a run's own dataset as its trainer opened it; other models' as `evaluate` picks. */
  model: ModelRefSchema,
  /** Default: the run's dataset, else the built-in one the model fits. */
  dataset: v.optional(DatasetIdSchema),
  split: SplitSchema,
  indices: v.pipe(v.array(CountSchema), v.minLength(1, 'name at least one example'), v.maxLength(MAX_EXAMPLES, `at most ${MAX_EXAMPLES} examples a request`)),
});
export type ExamplesParams = v.InferOutput<typeof ExamplesParamsSchema>;

export const ExamplesResultSchema = v.pipe(
  v.object({
    dataset: v.string(),
    split: SplitSchema,
    /** The stored pixels (before preprocessing), in the order asked: [n, h, w, c] uint8. */
    images: Uint8TensorSchema,
    /** Each example's true class. */
    labels: Int32ArraySchema,
    classNames: v.array(v.string()),
  }),
  v.check((r) => r.images.shape.length === 4 && r.images.shape[0] === r.labels.length, 'images must be [n, h, w, c] with one label per image'),
);
export type ExamplesResult = v.InferOutput<typeof ExamplesResultSchema>;
