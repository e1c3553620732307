import { ConvscopeError } from '../errors';

/** A training configuration that cannot run (bad number, unknown optimizer, ...). */
export class TrainConfigError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'bad-train-config');
    this.name = 'TrainConfigError';
  }
}

/** The model and batch need more memory than the backend can hold. */
export class MemoryLimitError extends ConvscopeError {
  constructor(
    message: string,
    readonly estimateBytes: number,
    readonly limitBytes: number,
  ) {
    super(message, 'memory-limit');
    this.name = 'MemoryLimitError';
  }
}

/** The loss became NaN or infinite; the run stopped at `step` (1-based, counted over the whole run). */
export class DivergedError extends ConvscopeError {
  constructor(
    readonly step: number,
    readonly epoch: number,
    readonly loss: number,
  ) {
    super(`the loss became ${loss} at step ${step} (epoch ${epoch}); training stopped (try a smaller learning rate)`, 'diverged');
    this.name = 'DivergedError';
  }
}

/**
 * A run folder that cannot be resumed or read (missing or malformed files). 'checkpoint-corrupt': a checkpoint
 * fails its checksum or cannot be decoded; '-previous-intact': the latest does, and the one before it is intact.
 */
export class RunFolderError extends ConvscopeError {
  constructor(message: string, code: 'run-folder' | 'checkpoint-corrupt' | 'checkpoint-corrupt-previous-intact' = 'run-folder') {
    super(message, code);
    this.name = 'RunFolderError';
  }
}

/** The disk holding the run folder filled up (ENOSPC): the run stopped; its last checkpoint is intact. */
export class DiskFullError extends ConvscopeError {
  constructor(
    readonly runDir: string,
    readonly checkpointStep: number | null,
  ) {
    const resume =
      checkpointStep === null
        ? 'no checkpoint was written yet: free some space and start the run again'
        : `its checkpoint at step ${checkpointStep} is intact: free some space, then resume it (convscope train --resume ${runDir})`;
    super(`disk full (ENOSPC) writing to ${runDir}: the run stopped; ${resume}`, 'disk-full');
    this.name = 'DiskFullError';
  }
}

/** Whether `err` (or what caused it) is the disk running out of space. */
export function isDiskFull(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return true;
  return false;
}
