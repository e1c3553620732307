// The arithmetic of one unit (engine/inspect/unit-arithmetic.ts) for an image: what the Activations
// view's unit panel shows.
import * as v from 'valibot';
import { CountSchema, Float32ArraySchema, ModelRefSchema, NameSchema } from './common';
import { ImageInputSchema } from './inspect';

export const UnitRefSchema = v.strictObject({ layer: NameSchema, y: CountSchema, x: CountSchema, channel: CountSchema });

export const UnitArithmeticParamsSchema = v.strictObject({ image: ImageInputSchema, model: ModelRefSchema, unit: UnitRefSchema });

const WindowSchema = v.strictObject({
  top: v.number(),
  left: v.number(),
  height: CountSchema,
  width: CountSchema,
  strideY: CountSchema,
  strideX: CountSchema,
  inputHeight: CountSchema,
  inputWidth: CountSchema,
});
const ActivationSchema = v.picklist(['linear', 'relu', 'tanh', 'sigmoid', 'softmax']);
const common = {
  layer: NameSchema,
  className: v.string(),
  inputLayer: v.string(),
  unit: UnitRefSchema,
  output: v.number(),
  engineOutput: v.number(),
};

export const UnitArithmeticResultSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('conv'),
    ...common,
    window: WindowSchema,
    inputChannels: v.array(CountSchema),
    group: v.strictObject({ index: CountSchema, count: CountSchema }),
    patch: Float32ArraySchema,
    kernel: Float32ArraySchema,
    products: Float32ArraySchema,
    channelSums: Float32ArraySchema,
    sum: v.number(),
    bias: v.number(),
    preActivation: v.number(),
    activation: ActivationSchema,
  }),
  v.strictObject({
    kind: v.literal('pool'),
    ...common,
    op: v.picklist(['max', 'avg']),
    window: WindowSchema,
    values: Float32ArraySchema,
    winner: v.nullable(v.strictObject({ dy: CountSchema, dx: CountSchema })),
  }),
  v.strictObject({
    kind: v.literal('dense'),
    ...common,
    inputCount: CountSchema,
    top: v.array(v.strictObject({ index: CountSchema, input: v.number(), weight: v.number(), product: v.number() })),
    sum: v.number(),
    rest: v.number(),
    bias: v.number(),
    preActivation: v.number(),
    activation: ActivationSchema,
  }),
  v.strictObject({
    kind: v.literal('lrn'),
    ...common,
    channels: v.array(CountSchema),
    values: Float32ArraySchema,
    squares: Float32ArraySchema,
    sumSquares: v.number(),
    depthRadius: CountSchema,
    bias: v.number(),
    alpha: v.number(),
    beta: v.number(),
    denominator: v.number(),
    centre: v.number(),
  }),
]);
export type UnitArithmeticResult = v.InferOutput<typeof UnitArithmeticResultSchema>;
