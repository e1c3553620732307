// The engine's compute backend and the datasets it can open.
import * as v from 'valibot';
import { CountSchema, ImageShapeSchema, NameSchema, PathSchema, PositiveIntSchema } from './common';

export const BACKEND_KINDS = ['gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export const BackendChoiceSchema = v.picklist(['auto', ...BACKEND_KINDS]);
export type BackendChoice = v.InferOutput<typeof BackendChoiceSchema>;

/** Threads of the wasm backend: 1 to 8 (XNNPACK's pool in tfjs-backend-wasm 4.22, MAX_WASM_THREADS). */
export const ThreadsSchema = v.pipe(PositiveIntSchema, v.maxValue(8, 'expected at most 8 threads'));

export const BackendInfoParamsSchema = v.strictObject({});
export const BackendInfoResultSchema = v.object({
  requested: BackendChoiceSchema,
  chosen: v.picklist(BACKEND_KINDS),
  /** tf.getBackend(): 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfBackend: v.string(),
  /** Backends tried and passed over, with the reason. */
  skipped: v.array(v.object({ backend: v.picklist(BACKEND_KINDS), reason: v.string() })),
  versions: v.record(v.string(), v.string()),
  nativePackage: v.optional(v.string()),
  gpuDevice: v.optional(v.string()),
  webgpuAdapter: v.optional(
    v.object({ vendor: v.string(), architecture: v.string(), device: v.string(), description: v.string(), software: v.boolean() }),
  ),
  simd: v.optional(v.boolean()),
  threads: v.optional(PositiveIntSchema),
  wasmKernels: v.optional(v.array(v.object({ kernel: v.string(), change: v.picklist(['added', 'replaced']), why: v.string() }))),
  /** One line for people, e.g. 'wasm (SIMD, 1 thread) — tfjs 4.22.0'. */
  description: v.string(),
});
export type BackendInfo = v.InferOutput<typeof BackendInfoResultSchema>;

export const DatasetInfoSchema = v.object({
  /** As training configs name it: 'mnist', 'fashion-mnist', 'folder:/abs/path'. */
  id: NameSchema,
  title: v.string(),
  /** False when its files are not on this machine (note says how to get them). */
  available: v.boolean(),
  classes: v.nullable(PositiveIntSchema),
  shape: v.nullable(ImageShapeSchema),
  trainSize: v.nullable(CountSchema),
  testSize: v.nullable(CountSchema),
  note: v.nullable(v.string()),
});
export type DatasetInfo = v.InferOutput<typeof DatasetInfoSchema>;

export const ListDatasetsParamsSchema = v.strictObject({});
export const ListDatasetsResultSchema = v.object({ datasets: v.array(DatasetInfoSchema) });

/** What the app opens on: the bundled pretrained run and the sample images (resources/). */
export const AppDefaultsParamsSchema = v.strictObject({});
export const AppDefaultsResultSchema = v.object({
  /** The pretrained LeNet-5 run folder (null where this install has none). */
  run: v.nullable(PathSchema),
  /** Sample images, the first one to inspect at start. */
  samples: v.array(v.object({ name: NameSchema, path: PathSchema })),
});
export type AppDefaults = v.InferOutput<typeof AppDefaultsResultSchema>;
