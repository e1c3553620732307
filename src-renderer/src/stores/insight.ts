// Insight jobs from the UI: a subscription that reports progress and then one result.
import type { Params } from '../../../src-main/contract/api';
import type { EmbeddingResult, NeighboursResult, TopPatchesResult, VisualizeResult } from '../../../src-main/contract/insight';
import { HostError } from '../host/host';
import { host } from './connection.svelte';

interface JobResults {
  topPatches: TopPatchesResult;
  visualize: VisualizeResult;
  neighbours: NeighboursResult;
  embedding: EmbeddingResult;
}
export type InsightMethod = keyof JobResults;
export type JobResult<M extends InsightMethod> = JobResults[M];

/** Runs a job to its result; `onProgress` gets each progress event; aborting closes the subscription. */
export async function runJob<M extends InsightMethod>(method: M, params: Params<M>, onProgress: (done: number, total: number, stage: string) => void, signal?: AbortSignal): Promise<JobResult<M>> {
  const h = await host();
  return new Promise((resolve, reject) => {
    let result: JobResult<M> | undefined;
    h.subscribe(method, params, {
      onEvent: (e) => {
        const event = e as { kind: 'progress'; done: number; total: number; stage: string } | { kind: 'done'; result: JobResult<M> };
        if (event.kind === 'progress') onProgress(event.done, event.total, event.stage);
        else result = event.result;
      },
      onEnd: (error) => {
        if (error) reject(new HostError(error));
        else if (result) resolve(result);
        else reject(new HostError({ code: 'internal', message: `${method} ended without a result` }));
      },
    }).then(
      (sub) => signal?.addEventListener('abort', () => {
        sub.close();
        reject(new HostError({ code: 'cancelled', message: `${method} was cancelled` }));
      }, { once: true }),
      reject,
    );
  });
}
