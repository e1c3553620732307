// What `--model` names, turned into a model ready to inspect: a zoo id (+ overrides), a run folder (its
// latest checkpoint, or its saved model), a model folder, or a model.json path (tfjs layers model, e.g. a
// Keras model from tensorflowjs_converter, with its weight shards beside it). A model folder written by
// `convscope import` carries model-info.json: its preprocessing and class names apply. An .onnx or
// .caffemodel file is imported on the fly into the import cache (keyed by its content) and opened from there.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { buildModel, getModelSpec, loadModel, MODEL_JSON, type ModelSpec, type Overrides } from '../models';
import { readCheckpointFile } from '../train/checkpoint-file';
import type { TrainConfig } from '../train/config';
import { readJson, readRunConfig, RUN_FILES } from '../train/run-folder';
import type { Checkpoint, CheckpointMeta } from '../train/trainer';
import { builtinDatasets } from '../data/registry';
import { parsePreprocessor, type Preprocessor } from '../data/preprocess';
import { readModelInfo, type ImportedModelInfo } from '../import/model-info';
import { importedFolder } from '../import/import-cache';
import { ModelRefError } from './errors';
import { importedInputs } from './imported-input';
import { defaultPreprocessor, inputPreparer, type InputFit, type InputPreparer } from './input';

/** Files the trainer writes beside config.json (train/run.ts keeps their names private). */
const RUN_SPEC_FILE = 'spec.json';
const RUN_DATASET_FILE = 'dataset.json';

export type ModelSource =
  | { kind: 'zoo'; id: string; overrides: Overrides }
  | { kind: 'run'; runDir: string; from: 'checkpoint' | 'model' | 'initial'; step: number | null; config: TrainConfig; spec: ModelSpec; preprocess: unknown }
  /**
   * `imported`: the folder's model-info.json (a model made by `convscope import`), absent without one;
   * `importedFrom`: the model file that was imported into this (cache) folder on the fly.
   */
  | { kind: 'model-folder'; dir: string; imported?: ImportedModelInfo; importedFrom?: string };

export interface ResolvedModel {
  model: tf.LayersModel;
  source: ModelSource;
  /** [height, width, channels] of one input. */
  input: [number, number, number];
  /**
   * How dataset images become inputs: the run's stored preprocessor (preprocess.json), a model.json's
   * userDefinedMetadata.preprocess, else pixels / 255; an imported model's nearest form of its own.
   */
  preprocessor: Preprocessor;
  /** Turns an image into this model's input: with that preprocessor, or an imported model's own preprocessing exactly. */
  prepare: InputPreparer;
  /** Class names where known: the run's built-in dataset, model.json's userDefinedMetadata.classNames, model-info.json's. */
  classNames: readonly string[] | null;
  /** What a user should know about how the model is used (an imported model's notes). */
  notes: string[];
}

export interface ResolveOptions {
  /** Zoo models only. */
  overrides?: Overrides;
  /** Run folders only: the checkpoint at this step (a run keeps its latest; step 0 is its initial weights, rebuilt from its seed or stored in initial/). */
  checkpoint?: number;
  /** Initial weights of a zoo model (default 0). */
  seed?: number;
  /** Where .onnx / .caffemodel files are imported to (default: the user's cache folder, convscope/imports). */
  importCacheDir?: string;
}

/** Model files imported on the fly rather than opened as a folder. */
const IMPORTABLE_EXTENSIONS = ['.onnx', '.caffemodel'];

/** True when `dir` is a ConvScope run folder. */
export function isRunFolder(dir: string): boolean {
  return existsSync(path.join(dir, RUN_FILES.config));
}

export async function resolveModel(ref: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const onDisk = existsSync(ref);
  if (!onDisk && (ref.includes('/') || ref.includes(path.sep) || ref.endsWith('.json') || IMPORTABLE_EXTENSIONS.includes(path.extname(ref).toLowerCase()))) {
    throw new ModelRefError(`no file or folder at ${ref}`);
  }
  const usesOverrides = options.overrides && Object.keys(options.overrides).length > 0;
  if (!onDisk) {
    const spec = getModelSpec(ref, options.overrides ?? {});
    if (options.checkpoint !== undefined) throw new ModelRefError(`--checkpoint applies to run folders, not to the zoo model ${ref}`);
    return withInput({ model: buildModel(spec, { seed: options.seed ?? 0 }), source: { kind: 'zoo', id: ref, overrides: options.overrides ?? {} }, input: spec.input, classNames: null }, null);
  }
  if (usesOverrides) throw new ModelRefError(`--set applies to zoo models; ${ref} is a saved model whose layers are fixed`);
  if (statSync(ref).isFile()) {
    if (IMPORTABLE_EXTENSIONS.includes(path.extname(ref).toLowerCase())) {
      if (options.checkpoint !== undefined) throw new ModelRefError(`--checkpoint applies to run folders; ${ref} holds one model`);
      const dir = await importedFolder(ref, options.importCacheDir);
      const resolved = await resolveModelFolder(dir, options);
      return { ...resolved, source: { ...(resolved.source as Extract<ModelSource, { kind: 'model-folder' }>), importedFrom: ref } };
    }
    if (path.basename(ref) !== MODEL_JSON) throw new ModelRefError(`${ref}: expected a ${MODEL_JSON} file (a tfjs layers model), an .onnx or .caffemodel file, a run folder or a model folder`);
    return resolveModelFolder(path.dirname(ref), options);
  }
  if (isRunFolder(ref)) return resolveRun(ref, options);
  if (existsSync(path.join(ref, MODEL_JSON))) return resolveModelFolder(ref, options);
  throw new ModelRefError(`${ref} is neither a run folder (no ${RUN_FILES.config}) nor a model folder (no ${MODEL_JSON})`);
}

async function resolveModelFolder(dir: string, options: ResolveOptions): Promise<ResolvedModel> {
  if (options.checkpoint !== undefined) throw new ModelRefError(`--checkpoint applies to run folders; ${dir} holds one model`);
  const imported = await readModelInfo(dir);
  const model = await loadModel(dir);
  const meta = (model.getUserDefinedMetadata() ?? {}) as { classNames?: unknown; preprocess?: unknown };
  const own = Array.isArray(meta.classNames) && meta.classNames.every((n) => typeof n === 'string') ? meta.classNames : null;
  const source: ModelSource = imported ? { kind: 'model-folder', dir, imported } : { kind: 'model-folder', dir };
  const m = { model, source, input: inputShapeOf(model), classNames: imported?.classNames ?? own };
  return imported ? withImportedInput(m, imported) : withInput(m, meta.preprocess ?? null);
}

/**
 * An imported model (a folder's model-info.json, or a file imported on the fly) ready to inspect: its own
 * preprocessing for images, its class names, its notes. Disposes the model if the preprocessing does not fit it.
 */
export function withImportedInput<S>(m: { model: tf.LayersModel; source: S; input: [number, number, number]; classNames: readonly string[] | null }, info: ImportedModelInfo) {
  try {
    const { prepare, preprocessor, notes } = importedInputs(info, m.input);
    return { ...m, classNames: m.classNames ?? info.classNames, preprocessor, prepare, notes };
  } catch (err) {
    m.model.dispose();
    throw err;
  }
}

async function resolveRun(runDir: string, options: ResolveOptions): Promise<ResolvedModel> {
  const config = await readRunConfig(runDir);
  const preprocess = existsSync(path.join(runDir, RUN_FILES.preprocess)) ? await readJson<unknown>(runDir, RUN_FILES.preprocess) : null;
  const record = existsSync(path.join(runDir, RUN_DATASET_FILE)) ? await readJson<{ classNames?: string[]; storedSize?: number }>(runDir, RUN_DATASET_FILE) : null;
  const classNames = record?.classNames ?? builtinDatasets().find((d) => d.id === config.dataset)?.classNames ?? null;
  const spec = existsSync(path.join(runDir, RUN_SPEC_FILE)) ? await readJson<ModelSpec>(runDir, RUN_SPEC_FILE) : getModelSpec(config.model.id, config.model.overrides);
  if (options.checkpoint === 0) {
    // ConvScope's trainer builds its model from the spec and the run's seed: step 0 is that model, exactly.
    // Other trainers store their initial weights.
    const initialDir = path.join(runDir, RUN_FILES.initial);
    const model = existsSync(path.join(initialDir, MODEL_JSON)) ? await loadModel(initialDir) : buildModel(spec, { seed: config.seed });
    return withInput({ model, source: { kind: 'run', runDir, from: 'initial', step: 0, config, spec, preprocess }, input: spec.input, classNames }, preprocess, fitOf(record, spec.input));
  }
  // The checkpoint is written at least as late as the saved model (the model is saved after the last one).
  const picked = await pickCheckpoint(runDir, options.checkpoint);
  if (picked) {
    const { checkpoint, file: checkpointFile } = picked;
    const step = checkpoint.meta.position.globalStep;
    const model = buildModel(spec, { seed: config.seed });
    try {
      assignWeights(model, checkpoint.arrays.weights ?? [], checkpointFile);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return withInput({ model, source: { kind: 'run', runDir, from: 'checkpoint', step, config, spec, preprocess }, input: spec.input, classNames }, preprocess, fitOf(record, spec.input));
  }
  const modelDir = path.join(runDir, RUN_FILES.model);
  if (!existsSync(path.join(modelDir, MODEL_JSON))) throw new ModelRefError(`${runDir} has neither a checkpoint nor a saved model yet`);
  if (options.checkpoint !== undefined) throw new ModelRefError(`${runDir} has no checkpoint, only its saved model`);
  const model = await loadModel(modelDir);
  const input = inputShapeOf(model);
  return withInput({ model, source: { kind: 'run', runDir, from: 'model', step: null, config, spec, preprocess }, input, classNames }, preprocess, fitOf(record, input));
}

/** Folder images stored larger than the input were cropped, not resized, in training and evaluation. */
function fitOf(record: { storedSize?: number } | null, input: readonly [number, number, number]): InputFit {
  return record?.storedSize !== undefined && record.storedSize > Math.min(input[0], input[1]) ? 'center-crop' : 'resize';
}

/** Writes saved arrays into the model's weights, matched by their stable names (originalName). */
function assignWeights(model: tf.LayersModel, arrays: readonly { name: string; shape: number[]; values: Float32Array }[], file: string): void {
  const saved = new Map(arrays.map((a) => [a.name, a]));
  for (const w of model.weights) {
    const a = saved.get(w.originalName);
    if (!a) throw new ModelRefError(`checkpoint ${file} has no weight ${w.originalName}`);
    if (a.shape.join('x') !== w.shape.join('x')) throw new ModelRefError(`checkpoint ${file}: weight ${w.originalName} is ${a.shape.join('x')}, the model's is ${w.shape.join('x')}`);
    tf.tidy(() => {
      w.write(tf.tensor(a.values, a.shape, 'float32'));
    });
  }
}

function inputShapeOf(model: tf.LayersModel): [number, number, number] {
  const shape = model.inputs[0]?.shape ?? [];
  const [, h, w, c] = shape;
  if (model.inputs.length !== 1 || shape.length !== 4 || !h || !w || !c) {
    throw new ModelRefError(`${model.name}: inspection needs one image input of fixed size [batch, height, width, channels], the model takes ${JSON.stringify(model.inputs.map((i) => i.shape))}`);
  }
  return [h, w, c];
}

/** Adds the preprocessor (stored, else pixels / 255) and the input preparer; disposes the model if they are unusable. */
function withInput(m: Omit<ResolvedModel, 'preprocessor' | 'prepare' | 'notes'>, stored: unknown, fit: InputFit = 'resize'): ResolvedModel {
  try {
    const preprocessor = stored === null ? defaultPreprocessor(m.input) : parsePreprocessor(stored);
    return { ...m, preprocessor, prepare: inputPreparer(preprocessor, m.input, fit), notes: [] };
  } catch (err) {
    m.model.dispose();
    throw err;
  }
}

/**
 * The run's latest checkpoint, or with `step` the kept one at that step: the latest or the one before it
 * (checkpoint.prev.bin, also the newest when a writer was killed between its two renames). Null when it has none.
 */
async function pickCheckpoint(runDir: string, step: number | undefined): Promise<{ checkpoint: Checkpoint; file: string } | null> {
  const kept: number[] = [];
  for (const name of [RUN_FILES.checkpoint, RUN_FILES.previousCheckpoint]) {
    const file = path.join(runDir, name);
    const checkpoint = await readCheckpointFile<CheckpointMeta>(file);
    if (!checkpoint) continue;
    if (step === undefined || checkpoint.meta.position.globalStep === step) return { checkpoint, file };
    kept.push(checkpoint.meta.position.globalStep);
  }
  if (kept.length === 0) return null;
  const at = kept.length === 1 ? `one checkpoint, at step ${kept[0]}` : `checkpoints at steps ${kept.join(' and ')}`;
  throw new ModelRefError(`${runDir} keeps ${at}, and its initial weights (step 0); there is no checkpoint at step ${step}`);
}
