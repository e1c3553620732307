// The engine side of the UI/engine contract: one handler per request (contract/api.ts), thin adapters
// over the engine modules. The host validates params before calling and turns thrown errors into
// ErrorInfo (contract/errors.ts toErrorInfo); it also paces subscribeRun's events (contract/throttle.ts).
import type { EngineHandlers } from '../../contract/api';
import type { BackendReport } from '../backend';
import { EngineContext, type EngineOptions } from './context';
import { evaluateHandlers } from './evaluate';
import { insightHandlers } from './insight';
import { inspectHandlers } from './inspect';
import { modelHandlers } from './models';
import { runHandlers } from './runs';
import { systemHandlers } from './system';
import { trainingHandlers } from './training';
import { unitHandlers } from './unit';
import { histogramHandlers } from './histograms';
import { attributionHandlers } from './attribution';

export type { EngineOptions } from './context';
export { DEFAULT_MODEL_CACHE_SIZE, DEFAULT_MAX_BATCH_ROWS } from './context';

export interface Engine {
  handlers: EngineHandlers;
  /** Starts the backend now (it otherwise starts with the first request that needs it). */
  ready(): Promise<BackendReport>;
  /** Stops every live run (each writes a checkpoint) and frees the cached models. */
  shutdown(): Promise<void>;
}

export function createEngine(options: EngineOptions): Engine {
  const ctx = new EngineContext(options);
  const handlers: EngineHandlers = {
    ...modelHandlers(ctx),
    ...inspectHandlers(ctx),
    ...evaluateHandlers(ctx),
    ...trainingHandlers(ctx),
    ...runHandlers(ctx),
    ...systemHandlers(ctx),
    ...insightHandlers(ctx),
    ...unitHandlers(ctx),
    ...histogramHandlers(),
    ...attributionHandlers(ctx),
  };
  return {
    handlers,
    ready: () => ctx.backend.ready(),
    shutdown: async () => {
      await ctx.runs.stopAll();
      ctx.models.clear();
    },
  };
}

export function createEngineHandlers(options: EngineOptions): EngineHandlers {
  return createEngine(options).handlers;
}
