// Building blocks of the contract's schemas: paths, ids, numbers, tensors, model references, errors.
import * as v from 'valibot';

/** A file-system path as the user or the engine named it (checked for sense, not for existence). */
export const PathSchema = v.pipe(
  v.string(),
  v.minLength(1, 'a path must not be empty'),
  v.maxLength(4096, 'a path must be at most 4096 characters'),
  v.check((s) => !s.includes('\0'), 'a path must not contain NUL characters'),
);

/** Names chosen by the app or the engine: model ids, run ids, dataset ids, layer names. */
export const NameSchema = v.pipe(v.string(), v.minLength(1, 'a name must not be empty'), v.maxLength(1024, 'a name must be at most 1024 characters'));

export const CountSchema = v.pipe(v.number(), v.safeInteger('expected a whole number'), v.minValue(0, 'expected a number >= 0'));
export const PositiveIntSchema = v.pipe(v.number(), v.safeInteger('expected a whole number'), v.minValue(1, 'expected a number >= 1'));
export const FiniteSchema = v.pipe(v.number(), v.finite('expected a finite number'));
/** A measured value (loss, accuracy, rate): may be NaN or infinite when training diverges. */
export const MetricSchema = v.custom<number>((x) => typeof x === 'number', 'expected a number');

export const OptionValueSchema = v.union([v.string(), v.number(), v.boolean()]);
export const OverridesSchema = v.record(v.pipe(v.string(), v.maxLength(256)), OptionValueSchema);

/** [height, width, channels] of one image. */
export const ImageShapeSchema = v.tuple([PositiveIntSchema, PositiveIntSchema, PositiveIntSchema]);

// ---- tensors: dense arrays with a shape; their data travel as binary buffers, never as JSON lists ----

export const DTYPES = ['float32', 'int32', 'uint8', 'uint32'] as const;
export type DType = (typeof DTYPES)[number];

export interface DTypeArrays {
  float32: Float32Array;
  int32: Int32Array;
  uint8: Uint8Array;
  uint32: Uint32Array;
}

export interface Tensor<D extends DType = DType> {
  dtype: D;
  /** Row-major; e.g. [height, width, channels] for an activation, [kh, kw, in, out] for conv kernels. */
  shape: number[];
  data: DTypeArrays[D];
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

// v.custom rather than v.instance, so a Node Buffer or a view on any ArrayBufferLike type-checks too.
export const Float32ArraySchema = v.custom<Float32Array>((x) => x instanceof Float32Array, 'expected a Float32Array');
export const Int32ArraySchema = v.custom<Int32Array>((x) => x instanceof Int32Array, 'expected an Int32Array');
export const Uint8ArraySchema = v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'expected a Uint8Array');
export const Uint32ArraySchema = v.custom<Uint32Array>((x) => x instanceof Uint32Array, 'expected a Uint32Array');

const ShapeSchema = v.pipe(v.array(CountSchema), v.maxLength(8, 'a tensor has at most 8 dimensions'));

// The check is typed by the schema's own output, so a uint8 tensor's data stay a Uint8Array for callers.
function checkedTensor<S extends v.GenericSchema<unknown, Tensor>>(schema: S) {
  return v.pipe(
    schema,
    v.check<v.InferOutput<S>, (issue: v.CheckIssue<v.InferOutput<S>>) => string>(
      (t) => t.data.length === shapeSize(t.shape),
      ({ input: t }) => `tensor data has ${t.data.length} values, its shape ${JSON.stringify(t.shape)} needs ${shapeSize(t.shape)}`,
    ),
  );
}

export const Float32TensorSchema = checkedTensor(v.strictObject({ dtype: v.literal('float32'), shape: ShapeSchema, data: Float32ArraySchema }));
export const Int32TensorSchema = checkedTensor(v.strictObject({ dtype: v.literal('int32'), shape: ShapeSchema, data: Int32ArraySchema }));
export const Uint8TensorSchema = checkedTensor(v.strictObject({ dtype: v.literal('uint8'), shape: ShapeSchema, data: Uint8ArraySchema }));
export const Uint32TensorSchema = checkedTensor(v.strictObject({ dtype: v.literal('uint32'), shape: ShapeSchema, data: Uint32ArraySchema }));
export const TensorSchema = v.union([Float32TensorSchema, Int32TensorSchema, Uint8TensorSchema, Uint32TensorSchema]);


/** Builds a tensor, checking that the data fit the shape. */
export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: DTypeArrays[D]): Tensor<D> {
  if (data.length !== shapeSize(shape)) throw new RangeError(`tensor: ${data.length} values do not fill shape ${JSON.stringify(shape)}`);
  return { dtype, shape: [...shape], data };
}

// ---- model references ----

/**
 * Which model a request is about: a zoo model (with option overrides), a training run (its latest
 * checkpoint, or the checkpoint at a step), or a model file/folder on disk (model.json, a model
 * folder, an ONNX file ...).
 */
export const ModelRefSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('zoo'), id: NameSchema, overrides: OverridesSchema }),
  v.strictObject({ kind: v.literal('run'), dir: PathSchema, checkpoint: v.optional(CountSchema) }),
  v.strictObject({ kind: v.literal('file'), path: PathSchema }),
]);
export type ModelRef = v.InferOutput<typeof ModelRefSchema>;

// ---- errors ----

export const ERROR_CODES = [
  /** The request (or the message around it) does not match the contract. */
  'invalid-request',
  /** No such request name. */
  'unknown-method',
  /** The reply did not match the contract (a bug on the answering side). */
  'invalid-reply',
  /** An event of a subscription did not match the contract. */
  'invalid-event',
  /** A path outside the folders the user opened. */
  'forbidden',
  /** The run, model, layer ... named does not exist. */
  'not-found',
  /** The request made sense but the input is wrong (bad file, impossible model ...): show the message as is. */
  'user-error',
  /** A bug or an unexpected failure in the engine. */
  'internal',
  'cancelled',
  'timeout',
  /** The engine process died while the request was in flight; it has been restarted. */
  'engine-restarted',
  /** The engine process cannot be started (it died too often). */
  'engine-unavailable',
  /** The connection was closed. */
  'closed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const IssueSchema = v.object({ path: v.string(), message: v.string() });
export type Issue = v.InferOutput<typeof IssueSchema>;

export const ErrorInfoSchema = v.object({
  code: v.picklist(ERROR_CODES),
  message: v.string(),
  /** For 'user-error': the engine's own code (e.g. 'dataset-missing'). */
  reason: v.optional(v.string()),
  /** For 'invalid-request' and friends: what did not match, field by field. */
  issues: v.optional(v.array(IssueSchema)),
});
export type ErrorInfo = v.InferOutput<typeof ErrorInfoSchema>;

/** A reply as the API hands it out: never a thrown error, so it survives Electron's contextBridge intact. */
export type Reply<T> = { ok: true; result: T } | { ok: false; error: ErrorInfo };
