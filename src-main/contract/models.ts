// Models: the zoo's list, layer-by-layer summaries, and models opened from disk.
import * as v from 'valibot';
import { CountSchema, ImageShapeSchema, ModelRefSchema, NameSchema, OptionValueSchema, PathSchema, PositiveIntSchema } from './common';

export const LAYER_KINDS = ['input', 'conv', 'dense', 'maxPool', 'avgPool', 'lrn', 'batchNorm', 'activation', 'flatten', 'dropout', 'zeroPadding', 'other'] as const;
export const LayerKindSchema = v.picklist(LAYER_KINDS);
export type LayerKind = v.InferOutput<typeof LayerKindSchema>;

/** The nonlinearity at a layer's output; 'other' for one the app does not model, null for none. */
export const NonlinearitySchema = v.nullable(v.picklist(['linear', 'relu', 'tanh', 'sigmoid', 'softmax', 'other']));
export type Nonlinearity = v.InferOutput<typeof NonlinearitySchema>;

export const ModelOptionSchema = v.object({
  key: v.string(),
  description: v.string(),
  /** For people, e.g. 'true or false', 'a number in [0, 1)'. */
  accepts: v.string(),
  default: v.nullable(OptionValueSchema),
});

export const ModelInfoSchema = v.object({
  id: NameSchema,
  title: v.string(),
  description: v.string(),
  input: ImageShapeSchema,
  classes: PositiveIntSchema,
  options: v.array(ModelOptionSchema),
});
export type ModelInfo = v.InferOutput<typeof ModelInfoSchema>;

export const ListModelsParamsSchema = v.strictObject({});
export const ListModelsResultSchema = v.object({ models: v.array(ModelInfoSchema) });

export const LayerSummarySchema = v.object({
  name: v.string(),
  /** The tfjs class, e.g. Conv2D, GroupedConv2D, MaxPooling2D. */
  type: v.string(),
  kind: LayerKindSchema,
  activation: NonlinearitySchema,
  /** With the batch axis first (null), as tfjs reports it. */
  outputShape: v.array(v.nullable(CountSchema)),
  params: CountSchema,
  trainableParams: CountSchema,
  /** Convolution and pooling layers: window height x width and stride along each. */
  window: v.optional(v.object({ size: v.tuple([PositiveIntSchema, PositiveIntSchema]), stride: v.tuple([PositiveIntSchema, PositiveIntSchema]) })),
});
export type LayerSummary = v.InferOutput<typeof LayerSummarySchema>;

export const ModelSummarySchema = v.object({
  name: v.string(),
  layers: v.array(LayerSummarySchema),
  totalParams: CountSchema,
  trainableParams: CountSchema,
  nonTrainableParams: CountSchema,
});
export type ModelSummary = v.InferOutput<typeof ModelSummarySchema>;

export const SummaryParamsSchema = v.strictObject({ model: ModelRefSchema });
export const SummaryResultSchema = ModelSummarySchema;

export const OpenModelParamsSchema = v.strictObject({ path: PathSchema });
export const OpenModelResultSchema = v.object({
  /** How later requests name this model. */
  ref: ModelRefSchema,
  /** What was found, for people: 'run folder', 'tfjs layers model', 'ONNX' ... */
  format: v.string(),
  summary: ModelSummarySchema,
  input: ImageShapeSchema,
  classNames: v.nullable(v.array(v.string())),
  warnings: v.array(v.string()),
});
export type OpenModelResult = v.InferOutput<typeof OpenModelResultSchema>;
