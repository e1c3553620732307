// How many threads the wasm backend may run (a setting of the CLI, the web host and a run's config).
import { availableParallelism } from 'node:os';

/** XNNPACK's pool has at most 8 threads in this build (its 8 pre-started workers). */
export const MAX_WASM_THREADS = 8;

/** The default thread count: every core of the machine, up to the pool's limit. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_WASM_THREADS, availableParallelism()));
}
