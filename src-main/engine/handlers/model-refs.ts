// A contract ModelRef turned into a model ready to inspect: run folders and model folders / model.json
// through inspect's resolver (which applies an imported model's model-info.json), zoo models as it builds
// them, and model files of other formats (ONNX, Caffe) through the importer, prepared the way inspect's
// resolver prepares imported folders. Cache keys change when the files do.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelRef } from '../../contract/common';
import { importModel, type ImportedModelInfo } from '../import';
import { defaultPreprocessor, inputPreparer, isRunFolder, resolveModel, withImportedInput, type ModelSource, type ResolvedModel } from '../inspect';
import { buildModel, getModelSpec, MODEL_JSON, type ModelSpec, type Overrides } from '../models';
import { RUN_FILES } from '../train';
import { notFound } from './errors';

export interface LoadedModel extends Omit<ResolvedModel, 'source' | 'notes'> {
  source: ModelSource | { kind: 'import'; file: string; info: ImportedModelInfo };
  /** For people: 'zoo model', 'run folder', 'tfjs layers model', 'ONNX' ... */
  format: string;
  /** What the user should know about how the model is used (an imported model's notes, e.g. what dataset evaluation approximates). */
  warnings: string[];
  dispose(): void;
}

/** Where a model ref's files are (absolute), or null for zoo models. */
export function refPath(ref: ModelRef): string | null {
  if (ref.kind === 'zoo') return null;
  return path.resolve(ref.kind === 'run' ? ref.dir : ref.path);
}

/** A key that names the model and, for files, the version of them on disk. */
export async function modelKey(ref: ModelRef): Promise<string> {
  if (ref.kind === 'zoo') {
    const overrides = Object.entries(ref.overrides).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `zoo:${ref.id}:${JSON.stringify(overrides)}`;
  }
  const where = refPath(ref)!;
  if (ref.kind === 'run') {
    // The checkpoint changes while the run trains; a run without one is read from its saved model.
    const version =
      (await stamp(path.join(where, RUN_FILES.checkpoint))) ?? (await stamp(path.join(where, RUN_FILES.previousCheckpoint))) ?? (await stamp(path.join(where, RUN_FILES.model, MODEL_JSON)));
    return `run:${where}:${ref.checkpoint ?? 'latest'}:${version}`;
  }
  const s = await stat(where).catch(() => null);
  if (!s) throw notFound(`no file or folder at ${where}`);
  const version = s.isDirectory() ? await stamp(path.join(where, MODEL_JSON)) : `${s.mtimeMs}:${s.size}`;
  return `file:${where}:${version}`;
}

async function stamp(file: string): Promise<string | null> {
  const s = await stat(file).catch(() => null);
  return s ? `${s.mtimeMs}:${s.size}` : null;
}

export async function loadModelRef(ref: ModelRef): Promise<LoadedModel> {
  if (ref.kind === 'zoo') return zooModel(ref.id, ref.overrides);
  const where = refPath(ref)!;
  if (ref.kind === 'run') {
    if (!isRunFolder(where)) throw notFound(`${where} is not a run folder (no ${RUN_FILES.config})`);
    return loaded(await resolveModel(where, { checkpoint: ref.checkpoint }), 'run folder');
  }
  const s = await stat(where).catch(() => null);
  if (!s) throw notFound(`no file or folder at ${where}`);
  if (s.isDirectory() && isRunFolder(where)) return loaded(await resolveModel(where), 'run folder');
  if (s.isDirectory() || path.basename(where) === MODEL_JSON) {
    const resolved = await resolveModel(where);
    const info = resolved.source.kind === 'model-folder' ? resolved.source.imported : undefined;
    return loaded(resolved, info ? `imported ${formatName(info)} model` : 'tfjs layers model');
  }
  const { model, info } = await importModel(where);
  const input: [number, number, number] = [info.input.height, info.input.width, info.input.channels];
  return loaded(withImportedInput({ model, source: { kind: 'import' as const, file: where, info }, input, classNames: null }, info), formatName(info));
}

/** As resolveModel builds zoo models (seed 0, pixels / 255), without its lookup of a file named like the id. */
function zooModel(id: string, overrides: Overrides): LoadedModel {
  const spec = getModelSpec(id, overrides);
  const preprocessor = defaultPreprocessor(spec.input);
  const model = buildModel(spec, { seed: 0 });
  return loaded({ model, source: { kind: 'zoo', id, overrides }, input: spec.input, classNames: null, preprocessor, prepare: inputPreparer(preprocessor, spec.input), notes: [] }, 'zoo model');
}

function loaded({ notes, ...resolved }: Omit<ResolvedModel, 'source'> & { source: LoadedModel['source'] }, format: string): LoadedModel {
  return { ...resolved, format, warnings: notes, dispose: () => resolved.model.dispose() };
}

function formatName(info: ImportedModelInfo): string {
  return { onnx: 'ONNX', caffe: 'Caffe', tfjs: 'TensorFlow.js' }[info.source.format];
}

/** The spec the data module sizes images by: the model's own where it has one. */
export function dataSpec(m: Pick<LoadedModel, 'source' | 'input'>): ModelSpec {
  if (m.source.kind === 'run') return m.source.spec;
  if (m.source.kind === 'zoo') return getModelSpec(m.source.id, m.source.overrides);
  // Models without a spec (loaded or imported): openTrainData reads only spec.input.
  return { input: m.input } as ModelSpec;
}
