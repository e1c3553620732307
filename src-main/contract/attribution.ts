// One attribution map for an image (engine/inspect/attribution/) and its faithfulness for that image:
// the deletion and insertion curves (Petsiuk et al.) of the map.
import * as v from 'valibot';
import { CountSchema, Float32TensorSchema, ModelRefSchema, NameSchema } from './common';
import { ImageInputSchema } from './inspect';

export const ATTRIBUTION_METHOD_IDS = ['saliency', 'gradcam', 'gradcam++', 'scorecam', 'smoothgrad', 'integrated-gradients'] as const;

export const AttributeParamsSchema = v.strictObject({
  image: ImageInputSchema,
  model: ModelRefSchema,
  method: v.picklist(ATTRIBUTION_METHOD_IDS),
  /** CAM methods: the layer (default: the last convolution). */
  layer: v.optional(NameSchema),
  /** Default: the top prediction. */
  classIndex: v.optional(CountSchema),
});

const CurveSchema = v.strictObject({ xs: v.array(v.number()), ys: v.array(v.number()), auc: v.number() });

export const AttributeResultSchema = v.strictObject({
  method: v.picklist(ATTRIBUTION_METHOD_IDS),
  classIndex: CountSchema,
  layer: v.nullable(v.string()),
  /** [height, width] at the input's size; larger = more important. */
  map: Float32TensorSchema,
  deletion: CurveSchema,
  insertion: CurveSchema,
  stepSize: CountSchema,
  ms: v.number(),
});
export type AttributeResult = v.InferOutput<typeof AttributeResultSchema>;
