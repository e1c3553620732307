// A contract ModelRef turned into a model ready to inspect: zoo models and run folders through inspect's
// resolver, model folders / model.json too (with an imported model's model-info.json applied), and model
// files of other formats (ONNX, Caffe) through the importer. Cache keys change when the files do.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelRef } from '../../contract/common';
import { importModel, readModelInfo, type ImportedModelInfo } from '../import';
import { defaultPreprocessor, inputPreparer, isRunFolder, resolveModel, type ModelSource, type ResolvedModel } from '../inspect';
import { buildModel, getModelSpec, MODEL_JSON, type ModelSpec, type Overrides } from '../models';
import { RUN_FILES } from '../train';
import { preprocessorOfImport } from './imported';
import { notFound } from './errors';

export interface LoadedModel extends Omit<ResolvedModel, 'source'> {
  source: ModelSource | { kind: 'import'; file: string; info: ImportedModelInfo };
  /** For people: 'zoo model', 'run folder', 'tfjs layers model', 'ONNX' ... */
  format: string;
  /** What the user should know about how the model is used (e.g. approximated preprocessing). */
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
    const version = (await stamp(path.join(where, RUN_FILES.checkpoint))) ?? (await stamp(path.join(where, RUN_FILES.model, MODEL_JSON)));
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
    const dir = s.isDirectory() ? where : path.dirname(where);
    const resolved = await resolveModel(where);
    const info = await readModelInfo(dir).catch((err) => {
      resolved.model.dispose();
      throw err;
    });
    return info ? withImportInfo(resolved, info, resolved.source, `imported ${formatName(info)} model`) : loaded(resolved, 'tfjs layers model');
  }
  const imported = await importModel(where);
  const input: [number, number, number] = [imported.info.input.height, imported.info.input.width, imported.info.input.channels];
  const source = { kind: 'import' as const, file: where, info: imported.info };
  try {
    return withImportInfo({ model: imported.model, input, classNames: imported.info.classNames }, imported.info, source, formatName(imported.info));
  } catch (err) {
    imported.model.dispose();
    throw err;
  }
}

/** As resolveModel builds zoo models (seed 0, pixels / 255), without its lookup of a file named like the id. */
function zooModel(id: string, overrides: Overrides): LoadedModel {
  const spec = getModelSpec(id, overrides);
  const preprocessor = defaultPreprocessor(spec.input);
  const model = buildModel(spec, { seed: 0 });
  return loaded({ model, source: { kind: 'zoo', id, overrides }, input: spec.input, classNames: null, preprocessor, prepare: inputPreparer(preprocessor, spec.input) }, 'zoo model');
}

function loaded(resolved: ResolvedModel, format: string): LoadedModel {
  return { ...resolved, format, warnings: [], dispose: () => resolved.model.dispose() };
}

function withImportInfo(
  m: Pick<ResolvedModel, 'model' | 'input' | 'classNames'>,
  info: ImportedModelInfo,
  source: LoadedModel['source'],
  format: string,
): LoadedModel {
  const { preprocessor, notes } = preprocessorOfImport(info.preprocessing, m.input);
  return {
    model: m.model,
    input: m.input,
    classNames: m.classNames ?? info.classNames,
    preprocessor,
    prepare: inputPreparer(preprocessor, m.input),
    source,
    format,
    warnings: [...info.notes, ...notes],
    dispose: () => m.model.dispose(),
  };
}

function formatName(info: ImportedModelInfo): string {
  return { onnx: 'ONNX', caffe: 'Caffe', tfjs: 'TensorFlow.js' }[info.source.format];
}

/** The spec the data module sizes images by: the model's own where it has one. */
export function dataSpec(m: LoadedModel): ModelSpec {
  if (m.source.kind === 'run') return m.source.spec;
  if (m.source.kind === 'zoo') return getModelSpec(m.source.id, m.source.overrides);
  // Models without a spec (loaded or imported): openTrainData reads only spec.input.
  return { input: m.input } as ModelSpec;
}
