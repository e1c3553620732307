// The zoo's models and the one the user is looking at (id + option values), shared by every view.
import type { ModelRef } from '../../../src-main/contract/common';
import type { OptionValue } from '../architecture/options';
import type { ModelInfo, ModelSummary, OpenModelResult } from '../../../src-main/contract/models';
import { changedOptions } from '../architecture/options';
import { describeError } from '../host/host';
import { host } from './connection.svelte';

export const models = $state<{
  list: ModelInfo[];
  loading: boolean;
  error: string | null;
  /** The zoo model chosen in the Architecture view and its option values (every option with a default). */
  id: string;
  values: Record<string, OptionValue>;
  /** Models opened from disk this session (their refs for inspect/kernels). */
  opened: OpenModelResult[];
  /** The model source the Activations and Kernels views use by default (a key of activations/sources.ts). */
  sourceKey: string;
}>({ list: [], loading: false, error: null, id: 'lenet5', values: {}, opened: [], sourceKey: 'zoo' });

export function modelInfo(id: string): ModelInfo | undefined {
  return models.list.find((m) => m.id === id);
}

export function defaultValues(info: ModelInfo): Record<string, OptionValue> {
  const values: Record<string, OptionValue> = {};
  for (const o of info.options) if (o.default !== null) values[o.key] = o.default;
  return values;
}

/** Option values that differ from the model's defaults (what requests and run configs carry). */
export function currentOverrides(): Record<string, OptionValue> {
  const info = modelInfo(models.id);
  if (!info) return {};
  return changedOptions(models.values, Object.fromEntries(info.options.map((o) => [o.key, o.default])));
}

export function zooRef(): ModelRef {
  return { kind: 'zoo', id: models.id, overrides: currentOverrides() };
}

export function chooseModel(id: string): void {
  const info = modelInfo(id);
  models.id = id;
  models.values = info ? defaultValues(info) : {};
}

let loaded: Promise<void> | null = null;

export function loadModels(): Promise<void> {
  loaded ??= (async () => {
    models.loading = true;
    try {
      const h = await host();
      const { models: list } = await h.call('listModels', {});
      models.list = list;
      if (!list.some((m) => m.id === models.id) && list.length > 0) models.id = list[0].id;
      const info = modelInfo(models.id);
      if (info) models.values = defaultValues(info);
      models.error = null;
    } catch (e) {
      models.error = describeError(e);
      loaded = null;
    } finally {
      models.loading = false;
    }
  })();
  return loaded;
}

/** A summary of any model reference; requests are cheap for zoo models (no weights are made). */
export async function summaryOf(ref: ModelRef, signal?: AbortSignal): Promise<ModelSummary> {
  const h = await host();
  return h.call('summary', { model: ref }, { signal });
}

/**
 * Opens a model file or folder (model.json, ONNX, Caffe, a run) and makes it the one to inspect, unless
 * `focus` says no by then (the start-up defaults must not take over a model the user chose meanwhile).
 */
export async function openModelFile(path: string, focus: () => boolean = () => true): Promise<OpenModelResult> {
  const h = await host();
  const result = await h.call('openModel', { path });
  models.opened = [...models.opened.filter((m) => JSON.stringify(m.ref) !== JSON.stringify(result.ref)), result];
  if (focus()) models.sourceKey = result.ref.kind === 'run' ? `run:${result.ref.dir}` : result.ref.kind === 'file' ? `file:${result.ref.path}` : 'zoo';
  return result;
}
