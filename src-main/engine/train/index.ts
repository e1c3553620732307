// Training runs: the public surface.
export { startRun, resumeRun, type StartOptions, type ResumeOptions } from './run';
export { Trainer, type TrainEvent, type TrainResult, type Progress, type Position, type CheckpointReason } from './trainer';
export { defaultConfig, defaultOptimizer, validateConfig, DEFAULT_LR, AUGMENT_KINDS, type AugmentKind, type TrainConfig } from './config';
export { PAPER_PLATEAU, type ScheduleConfig, type ScheduleState } from './schedule';
export type { OptimizerConfig, SgdConfig, AdamConfig } from './optimizers';
export { estimateTrainingMemory, memoryLimitFor, checkMemory, formatBytes, type MemoryEstimate, type MemoryLimit } from './memory';
export { readRun, readRunConfig, RUN_FILES, type RunRecord, type RunStatus, type RunState } from './run-folder';
export { readKernelSnapshot, KERNEL_INDEX, type KernelIndex, type KernelSnapshotEntry } from './kernel-snapshots';
export type { BatchRecord, EpochRecord } from './metrics';
export type { LayerStats, LayerStatsRecord } from './layer-stats';
export type { TrainData, TrainSplit, Batch } from './train-data';
export type { PreparedData } from './open-data';
export { LOSS_KINDS, type LossKind } from './loss';
export { TrainConfigError, MemoryLimitError, DivergedError, RunFolderError, DiskFullError } from './errors';
