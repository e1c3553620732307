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

/** A run folder that cannot be resumed or read (missing or malformed files). */
export class RunFolderError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'run-folder');
    this.name = 'RunFolderError';
  }
}
