// The one table of requests between UI and engine: each request's params, its result and, for
// subscriptions, its events, all as runtime schemas. Types for callers and handlers derive from it.
import * as v from 'valibot';
import type { ErrorInfo, ModelRef } from './common';
import {
  DeadReluParamsSchema,
  DeadReluResultSchema,
  EvaluateParamsSchema,
  EvaluateResultSchema,
  ExamplesParamsSchema,
  ExamplesResultSchema,
  InspectParamsSchema,
  InspectResultSchema,
  KernelsParamsSchema,
  KernelsResultSchema,
  KernelTimelineParamsSchema,
  KernelTimelineResultSchema,
} from './inspect';
import {
  EmbeddingEventSchema,
  EmbeddingParamsSchema,
  JobAcceptedSchema,
  NeighboursEventSchema,
  NeighboursParamsSchema,
  TopPatchesEventSchema,
  TopPatchesParamsSchema,
  VisualizeEventSchema,
  VisualizeParamsSchema,
} from './insight';
import {
  ListModelsParamsSchema,
  ListModelsResultSchema,
  OpenModelParamsSchema,
  OpenModelResultSchema,
  SummaryParamsSchema,
  SummaryResultSchema,
} from './models';
import { UnitArithmeticParamsSchema, UnitArithmeticResultSchema } from './unit';
import { RunHistogramsParamsSchema, RunHistogramsResultSchema } from './histograms';
import { AttributeParamsSchema, AttributeResultSchema } from './attribution';
import { AppDefaultsParamsSchema, AppDefaultsResultSchema, BackendInfoParamsSchema, BackendInfoResultSchema, ListDatasetsParamsSchema, ListDatasetsResultSchema } from './system';
import {
  ListRunsParamsSchema,
  ListRunsResultSchema,
  OpenRunParamsSchema,
  ResumeRunParamsSchema,
  RunDetailSchema,
  RunHandleSchema,
  RunIdParamsSchema,
  RunSnapshotSchema,
  RunStateEventSchema,
  RunStateResultSchema,
  StartTrainingParamsSchema,
  SubscribeRunParamsSchema,
  TrainingEventSchema,
  WatchRunsParamsSchema,
  WatchRunsResultSchema,
} from './training';

type AnySchema = v.GenericSchema<unknown, unknown>;

/**
 * How long a caller waits for a reply unless it says otherwise (a subscription: for its first reply), by
 * the work a request may do: answer from memory, build or load a model, or open (decode) a whole dataset.
 * Generous: they exist so that nothing waits forever, not to cut slow work short.
 */
export const REPLY_TIMEOUT_MS = { quick: 60_000, model: 10 * 60_000, dataset: 4 * 60 * 60_000 } as const;
type Work = keyof typeof REPLY_TIMEOUT_MS;

interface RequestDef<P extends AnySchema, R extends AnySchema> {
  params: P;
  result: R;
  timeoutMs: number;
}
interface SubscriptionDef<P extends AnySchema, R extends AnySchema, E extends AnySchema> extends RequestDef<P, R> {
  event: E;
}

const request = <P extends AnySchema, R extends AnySchema>(params: P, result: R, work: Work): RequestDef<P, R> => ({ params, result, timeoutMs: REPLY_TIMEOUT_MS[work] });
const subscription = <P extends AnySchema, R extends AnySchema, E extends AnySchema>(params: P, result: R, event: E, work: Work): SubscriptionDef<P, R, E> => ({
  params,
  result,
  event,
  timeoutMs: REPLY_TIMEOUT_MS[work],
});

export const REQUESTS = {
  listModels: request(ListModelsParamsSchema, ListModelsResultSchema, 'quick'),
  summary: request(SummaryParamsSchema, SummaryResultSchema, 'model'),
  openModel: request(OpenModelParamsSchema, OpenModelResultSchema, 'model'),
  inspect: request(InspectParamsSchema, InspectResultSchema, 'dataset'),
  kernels: request(KernelsParamsSchema, KernelsResultSchema, 'model'),
  kernelTimeline: request(KernelTimelineParamsSchema, KernelTimelineResultSchema, 'model'),
  deadRelu: request(DeadReluParamsSchema, DeadReluResultSchema, 'dataset'),
  evaluate: request(EvaluateParamsSchema, EvaluateResultSchema, 'dataset'),
  examples: request(ExamplesParamsSchema, ExamplesResultSchema, 'dataset'),
  startTraining: request(StartTrainingParamsSchema, RunHandleSchema, 'dataset'),
  pauseTraining: request(RunIdParamsSchema, RunStateResultSchema, 'model'),
  resumeTraining: request(RunIdParamsSchema, RunStateResultSchema, 'model'),
  stopTraining: request(RunIdParamsSchema, RunStateResultSchema, 'model'),
  resumeRun: request(ResumeRunParamsSchema, RunHandleSchema, 'dataset'),
  subscribeRun: subscription(SubscribeRunParamsSchema, RunSnapshotSchema, TrainingEventSchema, 'quick'),
  watchRuns: subscription(WatchRunsParamsSchema, WatchRunsResultSchema, RunStateEventSchema, 'quick'),
  listRuns: request(ListRunsParamsSchema, ListRunsResultSchema, 'quick'),
  openRun: request(OpenRunParamsSchema, RunDetailSchema, 'model'),
  backendInfo: request(BackendInfoParamsSchema, BackendInfoResultSchema, 'model'),
  listDatasets: request(ListDatasetsParamsSchema, ListDatasetsResultSchema, 'quick'),
  appDefaults: request(AppDefaultsParamsSchema, AppDefaultsResultSchema, 'quick'),
  topPatches: subscription(TopPatchesParamsSchema, JobAcceptedSchema, TopPatchesEventSchema, 'model'),
  visualize: subscription(VisualizeParamsSchema, JobAcceptedSchema, VisualizeEventSchema, 'model'),
  neighbours: subscription(NeighboursParamsSchema, JobAcceptedSchema, NeighboursEventSchema, 'model'),
  embedding: subscription(EmbeddingParamsSchema, JobAcceptedSchema, EmbeddingEventSchema, 'model'),
  unitArithmetic: request(UnitArithmeticParamsSchema, UnitArithmeticResultSchema, 'dataset'),
  runHistograms: request(RunHistogramsParamsSchema, RunHistogramsResultSchema, 'model'),
  attribute: request(AttributeParamsSchema, AttributeResultSchema, 'dataset'),
} as const;

type Table = typeof REQUESTS;
export type Method = keyof Table;
export type SubscriptionMethod = { [M in Method]: Table[M] extends { event: AnySchema } ? M : never }[Method];
export type PlainMethod = Exclude<Method, SubscriptionMethod>;

export type Params<M extends Method> = v.InferOutput<Table[M]['params']>;
export type Result<M extends Method> = v.InferOutput<Table[M]['result']>;
export type EventOf<M extends SubscriptionMethod> = v.InferOutput<Table[M] extends { event: infer E extends AnySchema } ? E : never>;

export const METHODS = Object.keys(REQUESTS) as Method[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(REQUESTS, name);
}

export function isSubscription(method: Method): method is SubscriptionMethod {
  return 'event' in REQUESTS[method];
}

export function eventSchema<M extends SubscriptionMethod>(method: M): Table[M]['event'] {
  return REQUESTS[method].event;
}

// ---- handlers: what the engine implements ----

export interface CallContext {
  /** Aborted when the caller cancels or disconnects. */
  signal: AbortSignal;
}

export interface SubscriptionSink<E> extends CallContext {
  /** Sends one event (after the subscription's initial result, in order). */
  emit(event: E): void;
  /** Ends the subscription from the engine's side (e.g. the run finished), with an error if it failed. */
  end(error?: ErrorInfo): void;
}

/**
 * The engine's implementation of the contract: one function per request. A subscription handler sets up
 * its event source, returns the initial result, and emits events through `sink` until sink.signal aborts
 * (then it must stop emitting and release what it holds). Typed arrays in results are sent, not copied
 * where the transport can transfer them: do not keep using an array you returned.
 */
export type EngineHandlers = {
  [M in Method]: M extends SubscriptionMethod
    ? (params: Params<M>, sink: SubscriptionSink<EventOf<M>>) => Promise<Result<M>> | Result<M>
    : (params: Params<M>, ctx: CallContext) => Promise<Result<M>> | Result<M>;
};

// ---- paths: which request fields name files (the web host checks them against its allow-list) ----

function modelPaths(ref: ModelRef): string[] {
  if (ref.kind === 'run') return [ref.dir];
  if (ref.kind === 'file') return [ref.path];
  return [];
}

/** The folder a dataset id names, resolved as the engine resolves it (engine/data/folder-id.ts), or null. */
export type DatasetFolderResolver = (id: string) => string | null;

const REQUEST_PATHS: { [M in Method]: (p: Params<M>, datasetPaths: (id: string | undefined) => string[]) => string[] } = {
  listModels: () => [],
  summary: (p) => modelPaths(p.model),
  openModel: (p) => [p.path],
  inspect: (p, datasetPaths) => [...(p.image.kind === 'path' ? [p.image.path] : p.image.kind === 'example' ? datasetPaths(p.image.dataset) : []), ...modelPaths(p.model)],
  kernels: (p) => modelPaths(p.model),
  kernelTimeline: (p) => [p.runDir],
  deadRelu: (p, datasetPaths) => [...modelPaths(p.model), ...datasetPaths(p.dataset)],
  evaluate: (p, datasetPaths) => [...modelPaths(p.model), ...datasetPaths(p.dataset)],
  examples: (p, datasetPaths) => [...modelPaths(p.model), ...datasetPaths(p.dataset)],
  startTraining: (p, datasetPaths) => datasetPaths(p.config.dataset),
  pauseTraining: () => [],
  resumeTraining: () => [],
  stopTraining: () => [],
  resumeRun: (p) => [p.runDir],
  subscribeRun: () => [],
  watchRuns: () => [],
  listRuns: (p) => (p.dir === undefined ? [] : [p.dir]),
  openRun: (p) => [p.runDir],
  backendInfo: () => [],
  listDatasets: () => [],
  appDefaults: () => [],
  topPatches: (p, datasetPaths) => [...modelPaths(p.model), ...datasetPaths(p.dataset)],
  visualize: (p) => modelPaths(p.model),
  neighbours: (p, datasetPaths) => [...(p.image.kind === 'path' ? [p.image.path] : []), ...modelPaths(p.model), ...datasetPaths(p.image.kind === 'example' ? p.image.dataset : undefined), ...datasetPaths(p.dataset)],
  embedding: (p, datasetPaths) => [...(p.image?.kind === 'path' ? [p.image.path] : []), ...modelPaths(p.model), ...datasetPaths(p.image?.kind === 'example' ? p.image.dataset : undefined), ...datasetPaths(p.dataset)],
  runHistograms: (p) => [p.runDir],
  attribute: (p, datasetPaths) => [...(p.image.kind === 'path' ? [p.image.path] : p.image.kind === 'example' ? datasetPaths(p.image.dataset) : []), ...modelPaths(p.model)],
  unitArithmetic: (p, datasetPaths) => [...(p.image.kind === 'path' ? [p.image.path] : p.image.kind === 'example' ? datasetPaths(p.image.dataset) : []), ...modelPaths(p.model)],
};

/** Every file or folder a (validated) request would read or write; dataset ids resolved by `datasetFolder`. */
export function requestPaths<M extends Method>(method: M, params: Params<M>, datasetFolder: DatasetFolderResolver): string[] {
  const paths: (p: Params<M>, datasetPaths: (id: string | undefined) => string[]) => string[] = REQUEST_PATHS[method];
  return paths(params, (id) => {
    const folder = id === undefined ? null : datasetFolder(id);
    return folder === null ? [] : [folder];
  });
}

const RESULT_FOLDERS: { [M in Method]?: (r: Result<M>) => string[] } = {
  startTraining: (r) => [r.runDir],
  resumeRun: (r) => [r.runDir],
  listRuns: (r) => [r.dir, ...r.runs.map((run) => run.runDir)],
  appDefaults: (r) => [...(r.run ? [r.run] : []), ...r.samples.map((s) => s.path)],
};

/**
 * Folders a successful result hands to the client for later requests (runs the engine made or listed).
 * `result` is the engine's own reply to a request of `method`, taken as that method's result.
 */
export function resultFolders<M extends Method>(method: M, result: unknown): string[] {
  const folders: ((r: Result<M>) => string[]) | undefined = RESULT_FOLDERS[method];
  return folders ? folders(result as Result<M>) : [];
}
