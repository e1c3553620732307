// What every handler shares: the backend, the runs folder, the model cache and the live runs.
import path from 'node:path';
import type { ModelRef } from '../../contract/common';
import type { BackendChoice } from '../backend';
import { EngineBackend } from './backend';
import { ModelCache } from './model-cache';
import { loadModelRef, modelKey, type LoadedModel } from './model-refs';
import { RunRegistry } from './run-registry';

export interface EngineOptions {
  /** Where new runs are made, and the folder listRuns lists by default. */
  runsDir: string;
  /** The compute backend (default: CONVSCOPE_BACKEND, else auto). */
  backend?: BackendChoice;
  /** Models kept built between requests (default 3). */
  modelCacheSize?: number;
  /** openRun returns at most this many batch rows, averaged in equal groups beyond it (default 5000). */
  maxBatchRows?: number;
  /** Recorded in the command.json of the runs this engine starts or resumes (default ['convscope-engine']). */
  argv?: string[];
  /**
   * Folders opened besides the runs folder (`convscope serve --open`): listRuns also lists those that are run
   * folders, and the run folders directly inside the others (runs trained elsewhere, e.g. by an exported trainer).
   */
  openFolders?: string[];
}

export const DEFAULT_MODEL_CACHE_SIZE = 3;
export const DEFAULT_MAX_BATCH_ROWS = 5000;

export class EngineContext {
  readonly runsDir: string;
  readonly openFolders: string[];
  readonly maxBatchRows: number;
  readonly argv: string[];
  readonly backend: EngineBackend;
  readonly models: ModelCache<LoadedModel>;
  readonly runs = new RunRegistry();

  constructor(options: EngineOptions) {
    this.runsDir = path.resolve(options.runsDir);
    this.openFolders = (options.openFolders ?? []).map((d) => path.resolve(d));
    this.maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS;
    this.argv = options.argv ?? ['convscope-engine'];
    this.models = new ModelCache<LoadedModel>(options.modelCacheSize ?? DEFAULT_MODEL_CACHE_SIZE);
    // Models built on the old backend are rebuilt on the new one.
    this.backend = new EngineBackend(options.backend, () => this.models.clear());
  }

  /** Runs fn on the model a ref names, built or loaded once and kept in the cache. */
  async withModel<R>(ref: ModelRef, fn: (m: LoadedModel) => Promise<R> | R): Promise<R> {
    await this.backend.ready();
    const key = await modelKey(ref);
    return this.models.use(key, () => loadModelRef(ref), fn);
  }
}
