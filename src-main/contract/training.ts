// Training runs: the configuration a UI sends, run handles, run folders as the UI sees them, and the
// events a running training streams (see throttle.ts for how they are paced).
import * as v from 'valibot';
import {
  CountSchema,
  ErrorInfoSchema,
  Float32ArraySchema,
  Int32ArraySchema,
  MetricSchema,
  NameSchema,
  OverridesSchema,
  PathSchema,
  PositiveIntSchema,
} from './common';
import { DatasetIdSchema, LayerKernelSchema, SnapshotRefSchema } from './inspect';
import { LayerKindSchema, NonlinearitySchema } from './models';
import { BackendChoiceSchema, ThreadsSchema } from './system';

const Rate = v.pipe(v.number(), v.finite(), v.gtValue(0, 'expected a number > 0'));
const NonNegative = v.pipe(v.number(), v.finite(), v.minValue(0, 'expected a number >= 0'));
const Fraction = v.pipe(v.number(), v.minValue(0), v.ltValue(1, 'expected a number below 1'));

export const OptimizerSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('sgd'), lr: Rate, momentum: Fraction, weightDecay: NonNegative }),
  v.strictObject({ kind: v.literal('adam'), lr: Rate, beta1: Fraction, beta2: Fraction, epsilon: Rate, weightDecay: NonNegative }),
]);
export type OptimizerConfig = v.InferOutput<typeof OptimizerSchema>;

export const ScheduleSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('constant') }),
  v.strictObject({ kind: v.literal('plateau'), factor: Rate, maxDrops: CountSchema, patience: PositiveIntSchema, minDelta: NonNegative }),
]);
export type ScheduleConfig = v.InferOutput<typeof ScheduleSchema>;

/** The engine's loss kinds (train/loss.ts): exact softmax cross-entropy, or Keras 2.2's clipped one. */
export const LOSS_KINDS = ['logits', 'keras-clipped'] as const;
/** The engine's augmentation kinds for folder datasets (train/config.ts). */
export const AUGMENT_KINDS = ['none', 'crop-mirror', 'paper'] as const;

// The engine's TrainConfig, every field but model and dataset optional (the engine fills its defaults).
const trainingConfigEntries = {
  model: v.strictObject({ id: NameSchema, overrides: OverridesSchema }),
  dataset: DatasetIdSchema,
  /** How pixels are prepared ('scale', 'mean-image' ...). */
  preprocess: v.optional(NameSchema),
  loss: v.optional(v.picklist(LOSS_KINDS)),
  /** Folder datasets only: random crops (+ mirrors, + PCA colour jitter for 'paper') of larger stored images. */
  augment: v.optional(v.picklist(AUGMENT_KINDS)),
  /** Folder datasets: the side images are stored at (null: the input side, or 256/224 of it when augmenting). */
  storedSize: v.optional(v.nullable(PositiveIntSchema)),
  optimizer: v.optional(OptimizerSchema),
  schedule: v.optional(ScheduleSchema),
  batchSize: v.optional(v.pipe(PositiveIntSchema, v.maxValue(65_536))),
  epochs: v.optional(v.pipe(PositiveIntSchema, v.maxValue(100_000))),
  seed: v.optional(CountSchema),
  /** Train on the first n examples only (null: all). */
  limit: v.optional(v.nullable(PositiveIntSchema)),
  testLimit: v.optional(v.nullable(PositiveIntSchema)),
  backend: v.optional(BackendChoiceSchema),
  /** Threads of the wasm backend (null: the engine's setting, every core by default). */
  threads: v.optional(v.nullable(ThreadsSchema)),
  /** Conv-kernel snapshot every n steps (0: at the start and the end only). */
  snapshotEvery: v.optional(CountSchema),
  snapshotBudgetBytes: v.optional(Rate),
  /** Layer statistics every n steps (0: never). */
  statsEvery: v.optional(CountSchema),
  probeSize: v.optional(PositiveIntSchema),
  checkpointEverySeconds: v.optional(Rate),
  checkpointEverySteps: v.optional(CountSchema),
  /** Keep the checkpoint before the latest too (twice the disk), to resume from if the latest is corrupt (default true). */
  keepPreviousCheckpoint: v.optional(v.boolean()),
};
/** What a UI sends: unknown fields are refused. */
export const TrainingConfigSchema = v.strictObject(trainingConfigEntries);
export type TrainingConfig = v.InferOutput<typeof TrainingConfigSchema>;
/** A run folder's stored config as read back: fields this version does not know are dropped. */
export const StoredTrainingConfigSchema = v.object(trainingConfigEntries);

export const RUN_STATES = ['running', 'paused', 'stopped', 'finished', 'failed'] as const;
export const RunStateSchema = v.picklist(RUN_STATES);
export type RunState = v.InferOutput<typeof RunStateSchema>;

/** A run live in this engine: runId names it in requests, runDir is its folder. */
export const RunHandleSchema = v.object({ runId: NameSchema, runDir: PathSchema });
export type RunHandle = v.InferOutput<typeof RunHandleSchema>;

export const StartTrainingParamsSchema = v.strictObject({ config: TrainingConfigSchema });
export const RunIdParamsSchema = v.strictObject({ runId: NameSchema });
export const RunStateResultSchema = v.object({ runId: NameSchema, state: RunStateSchema });
/** Continue a run from its last checkpoint (after a crash, or a stop). */
export const ResumeRunParamsSchema = v.strictObject({
  runDir: PathSchema,
  backend: v.optional(BackendChoiceSchema),
  threads: v.optional(ThreadsSchema),
  /** Continue from checkpoint.prev.bin: offered (error reason 'checkpoint-corrupt-previous-intact') when the latest is damaged. */
  fromPrevious: v.optional(v.boolean()),
});

export const BatchRecordSchema = v.object({
  /** 1-based over the whole run. */
  step: PositiveIntSchema,
  epoch: PositiveIntSchema,
  /** 1-based within the epoch. */
  batch: PositiveIntSchema,
  size: PositiveIntSchema,
  loss: MetricSchema,
  accuracy: MetricSchema,
  lr: MetricSchema,
  seconds: MetricSchema,
});
export type BatchRecord = v.InferOutput<typeof BatchRecordSchema>;

export const EpochRecordSchema = v.object({
  epoch: PositiveIntSchema,
  examples: CountSchema,
  loss: MetricSchema,
  accuracy: MetricSchema,
  top5Accuracy: v.optional(MetricSchema),
  testLoss: v.nullable(MetricSchema),
  testAccuracy: v.nullable(MetricSchema),
  testTop5Accuracy: v.optional(v.nullable(MetricSchema)),
  lr: MetricSchema,
  seconds: MetricSchema,
  trainSeconds: MetricSchema,
  imagesPerSecond: MetricSchema,
});
export type EpochRecord = v.InferOutput<typeof EpochRecordSchema>;

export const ProgressSchema = v.object({
  step: CountSchema,
  totalSteps: CountSchema,
  /** 1-based. */
  epoch: CountSchema,
  epochs: CountSchema,
  /** Batches done in this epoch. */
  batch: CountSchema,
  batchesPerEpoch: CountSchema,
  fraction: MetricSchema,
  imagesPerSecond: MetricSchema,
  /** Training time left; null before the first step. */
  etaSeconds: v.nullable(MetricSchema),
  loss: MetricSchema,
});
export type Progress = v.InferOutput<typeof ProgressSchema>;

export const LayerStatsSchema = v.object({
  layer: v.string(),
  kind: LayerKindSchema,
  activation: NonlinearitySchema,
  /** ReLU outputs: per channel, the fraction of probe images on which the channel is zero everywhere. */
  deadFraction: v.optional(Float32ArraySchema),
  deadChannels: v.optional(CountSchema),
  channels: v.optional(CountSchema),
  /** tanh / sigmoid outputs: fraction of units saturated. */
  saturatedFraction: v.optional(MetricSchema),
  /** L2 norm of the layer's weight gradients at this step. */
  gradientNorm: v.optional(MetricSchema),
});
export const LayerStatsRecordSchema = v.object({ step: CountSchema, epoch: CountSchema, probeSize: PositiveIntSchema, layers: v.array(LayerStatsSchema) });
export type LayerStatsRecord = v.InferOutput<typeof LayerStatsRecordSchema>;

export const CHECKPOINT_REASONS = ['start', 'interval', 'epoch', 'pause', 'stop'] as const;

/** What subscribeRun streams. Batch records arrive coalesced (several per event, none lost). */
export const TrainingEventSchema = v.variant('type', [
  v.object({ type: v.literal('batches'), records: v.array(BatchRecordSchema) }),
  v.object({ type: v.literal('epoch'), record: EpochRecordSchema }),
  /** A conv-kernel snapshot was taken; `kernels` may carry some layers' kernels for a live view. */
  v.object({ type: v.literal('kernels'), snapshot: SnapshotRefSchema, kernels: v.array(LayerKernelSchema) }),
  v.object({ type: v.literal('layerStats'), record: LayerStatsRecordSchema }),
  v.object({ type: v.literal('progress'), progress: ProgressSchema }),
  v.object({ type: v.literal('state'), state: RunStateSchema, message: v.optional(v.string()) }),
  v.object({ type: v.literal('checkpoint'), step: CountSchema, reason: v.picklist(CHECKPOINT_REASONS) }),
  v.object({ type: v.literal('error'), error: ErrorInfoSchema }),
]);
export type TrainingEvent = v.InferOutput<typeof TrainingEventSchema>;

export const SubscribeRunParamsSchema = RunIdParamsSchema;
/** Where the run stands when the subscription starts; events follow from there. */
export const RunSnapshotSchema = v.object({
  runId: NameSchema,
  runDir: PathSchema,
  state: RunStateSchema,
  progress: v.nullable(ProgressSchema),
  epochs: v.array(EpochRecordSchema),
  warnings: v.array(v.string()),
});
export type RunSnapshot = v.InferOutput<typeof RunSnapshotSchema>;

/** Every live run's state changes (for supervisors that resume runs after an engine crash). */
export const WatchRunsParamsSchema = v.strictObject({});
export const WatchRunsResultSchema = v.object({ runs: v.array(v.object({ runId: NameSchema, runDir: PathSchema, state: RunStateSchema })) });
export const RunStateEventSchema = v.object({ type: v.literal('run-state'), runId: NameSchema, runDir: PathSchema, state: RunStateSchema });
export type RunStateEvent = v.InferOutput<typeof RunStateEventSchema>;

export const RunStatusSchema = v.object({
  state: RunStateSchema,
  updatedAt: v.string(),
  globalStep: CountSchema,
  epoch: CountSchema,
  message: v.optional(v.string()),
});
export type RunStatus = v.InferOutput<typeof RunStatusSchema>;

export const RunSummarySchema = v.object({
  runDir: PathSchema,
  /** Set while the run is live in this engine. */
  runId: v.nullable(NameSchema),
  modelId: v.string(),
  dataset: v.string(),
  status: RunStatusSchema,
  epochs: PositiveIntSchema,
  lastEpoch: v.nullable(EpochRecordSchema),
});
export type RunSummary = v.InferOutput<typeof RunSummarySchema>;

export const ListRunsParamsSchema = v.strictObject({
  /** A folder of runs (default: the engine's runs folder). */
  dir: v.optional(PathSchema),
});
export const ListRunsResultSchema = v.object({ dir: PathSchema, runs: v.array(RunSummarySchema) });

export const OpenRunParamsSchema = v.strictObject({ runDir: PathSchema });
/** A run folder read back: its records as columns of typed arrays (a long run has millions of batches). */
export const RunDetailSchema = v.object({
  runDir: PathSchema,
  runId: v.nullable(NameSchema),
  config: StoredTrainingConfigSchema,
  status: RunStatusSchema,
  epochs: v.array(EpochRecordSchema),
  batches: v.object({
    step: Int32ArraySchema,
    epoch: Int32ArraySchema,
    loss: Float32ArraySchema,
    accuracy: Float32ArraySchema,
    lr: Float32ArraySchema,
  }),
  layerStats: v.array(LayerStatsRecordSchema),
  kernelSnapshots: v.array(SnapshotRefSchema),
  convLayers: v.array(v.string()),
  /** Whether resumeRun can continue it. */
  hasCheckpoint: v.boolean(),
});
export type RunDetail = v.InferOutput<typeof RunDetailSchema>;
