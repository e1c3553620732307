// One entry point: a model file (ONNX, Caffe, TensorFlow.js) -> a tfjs LayersModel + model-info, and the
// standard model folder (model.json + weights.bin + model-info.json) that every other part of ConvScope opens.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import { getModelSpec, listModels } from '../models';
import { layerActivation } from '../models/layer-kind';
import { saveModel, type SavedModelInfo } from '../models/io';
import { describePreprocessor, parsePreprocessor, type Preprocessor } from '../data/preprocess';
import { buildFromPlan } from './build';
import { readCaffe } from './caffe';
import { ImportFileError } from './errors';
import { externalDataFiles } from './external-data';
import type { IrGraph } from './ir';
import { lowerGraph } from './lower';
import { MODEL_INFO_JSON, type ImportedModelInfo } from './model-info';
import { readOnnx } from './onnx';
import { MODEL_INPUT, type LayerPlan } from './plan';
import { asRgb, imagenetClassNames, preprocessingFor, preset, toDataPreprocessor, type NamedPreset, type PreprocessChoice, type Preprocessing } from './preprocess';
import { readTfjsModel } from './tfjs-model';
import { buildZooModel, matchZoo, type ZooMatch } from './zoo-match';

export interface ImportOptions {
  /** Caffe: the deploy prototxt that defines the structure (the caffemodel's own net is used without it). */
  prototxt?: string;
  /** Overrides the preprocessing guessed from the source (refused when it does not fit the model's channels). */
  preprocess?: PreprocessChoice;
  /** A text file with one class name per line, in output order. */
  classNamesFile?: string;
}

export interface ImportedModel {
  model: tf.LayersModel;
  info: ImportedModelInfo;
}

export type SourceFormat = ImportedModelInfo['source']['format'];

/** Reads the file, converts it and attaches its metadata. The caller owns (and disposes) the model. */
export async function importModel(file: string, options: ImportOptions = {}): Promise<ImportedModel> {
  const fileStat = await stat(file).catch(() => null);
  if (!fileStat) throw new ImportFileError(`${file} does not exist`);
  const format = await detectFormat(file, fileStat.isDirectory(), options);
  if (format === 'tfjs') return importTfjs(file, options);

  const bytes = await readFile(file);
  const fileName = path.basename(file);
  let graphSource: { graph: IrGraph; producer?: string; opset?: number; notes: string[]; format: 'onnx' | 'caffe'; prototxt?: string; externalData?: string[]; convscope?: Preprocessor | null | undefined };
  if (format === 'onnx') {
    const external = externalDataFiles(file);
    let onnx: ReturnType<typeof readOnnx>;
    try {
      onnx = readOnnx(bytes, fileName, external.read);
    } finally {
      external.close();
    }
    const externalData = external.locations();
    graphSource = { graph: onnx.graph, producer: onnx.producer || undefined, opset: onnx.opset, notes: [], format, convscope: convscopePreprocess(onnx.metadata), ...(externalData.length ? { externalData } : {}) };
  } else {
    const prototxt = options.prototxt ? { text: await readText(options.prototxt), name: path.basename(options.prototxt) } : undefined;
    const caffe = readCaffe(bytes, fileName, prototxt);
    const notes = caffe.unusedWeights.length ? [`weights of layers not in the structure were ignored: ${caffe.unusedWeights.join(', ')}`] : [];
    graphSource = { graph: caffe.graph, notes, format, prototxt: prototxt?.name };
  }

  let plan = lowerGraph(graphSource.graph);
  let zoo = matchZoo(plan);
  const notes = [...graphSource.notes];
  if (!zoo) {
    const rebased = rebaseToZooInput(graphSource.graph, plan);
    if (rebased) {
      notes.push(
        `the file declares a ${plan.input[0]}x${plan.input[1]} input; at ${rebased.plan.input[0]}x${rebased.plan.input[1]}, the zoo model's own input size, ` +
          `its layers are exactly '${rebased.zoo.spec.id}' (its pooling pads only emulate Caffe's rounding at the declared size), so ConvScope uses that size`,
      );
      ({ plan, zoo } = rebased);
    }
  }
  notes.push(...plan.notes);
  if (zoo?.softmaxAdded) {
    const output = zoo.spec.layers[zoo.spec.layers.length - 1].name;
    notes.push(`the file outputs logits; as the zoo's '${zoo.spec.id}' the model ends in a softmax, so it outputs probabilities (the logits are ${output}'s values before its softmax)`);
  }
  const [height, width, channels] = plan.input;

  const chosen = graphSource.convscope !== undefined && !options.preprocess ? runPreset(graphSource.convscope, channels) : choosePreprocessing(graphSource.format, graphSource.producer, zoo, plan.input, options.preprocess);
  let preprocessing: Preprocessing = chosen.preprocessing;
  if (chosen.guessed) notes.push(guessNote(preprocessing, chosen.basis));
  if (preprocessing.channelOrder === 'BGR') {
    if (reverseInputChannels(plan)) {
      preprocessing = asRgb(preprocessing);
      notes.push('the first convolution takes RGB: its input channels were reordered from BGR (the mean is given in RGB order)');
    } else {
      notes.push('the model keeps its BGR input order (its input does not feed convolutions only)');
    }
  }

  const name = zoo?.spec.id ?? modelName(file);
  const model = zoo ? buildZooModel(zoo, plan) : buildFromPlan(plan, name);
  const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1] ?? 0;
  const softmax = layerActivation(model.outputLayers[0]) === 'softmax';
  const info: ImportedModelInfo = {
    format: 'convscope-model-info',
    version: 1,
    name,
    source: { format: graphSource.format, file: fileName, ...(graphSource.prototxt ? { prototxt: graphSource.prototxt } : {}), ...(graphSource.producer ? { producer: graphSource.producer } : {}), ...(graphSource.opset ? { opset: graphSource.opset } : {}), ...(graphSource.externalData ? { externalData: graphSource.externalData } : {}) },
    zoo: zoo ? { id: zoo.spec.id, options: zoo.overrides, patched: zoo.patched } : null,
    input: { height, width, channels },
    preprocessing: { ...preprocessing, basis: chosen.basis },
    output: { classes, softmax },
    classNames: await classNamesFor(classes, preprocessing.preset, options.classNamesFile),
    notes,
  };
  model.setUserDefinedMetadata(userMetadata(info));
  return { model, info };
}

/** What model.json's userDefinedMetadata carries for readers that do not know model-info.json. */
function userMetadata(info: ImportedModelInfo): { classNames?: string[]; preprocess?: object; convscopeImport: string } {
  const { height, width, channels } = info.input;
  const preprocess = toDataPreprocessor(info.preprocessing, [height, width, channels]);
  return { ...(info.classNames ? { classNames: info.classNames } : {}), ...(preprocess ? { preprocess } : {}), convscopeImport: MODEL_INFO_JSON };
}

/** Writes model.json + weights.bin (saveModel) and model-info.json into dir. */
export async function saveImportedModel(imported: ImportedModel, dir: string): Promise<SavedModelInfo & { infoPath: string }> {
  const saved = await saveModel(imported.model, dir);
  const infoPath = path.join(dir, MODEL_INFO_JSON);
  await writeFile(infoPath, JSON.stringify(imported.info, null, 1) + '\n');
  return { ...saved, infoPath };
}

async function importTfjs(file: string, options: ImportOptions): Promise<ImportedModel> {
  const { model, jsonPath } = await readTfjsModel(file);
  const [, height, width, channels] = model.inputs[0].shape as number[];
  const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1] ?? 0;
  const last = model.layers[model.layers.length - 1];
  const chosen = options.preprocess
    ? { preprocessing: preprocessingFor(options.preprocess, [height, width, channels]), basis: GIVEN }
    : { preprocessing: preprocessingFor('none', [height, width, channels]), basis: 'a TensorFlow.js model does not record its preprocessing' };
  const info: ImportedModelInfo = {
    format: 'convscope-model-info',
    version: 1,
    name: model.name,
    source: { format: 'tfjs', file: path.basename(jsonPath) },
    zoo: null,
    input: { height, width, channels },
    preprocessing: { ...chosen.preprocessing, basis: chosen.basis },
    output: { classes, softmax: layerActivation(last) === 'softmax' },
    classNames: await classNamesFor(classes, chosen.preprocessing.preset, options.classNamesFile),
    notes: options.preprocess ? [] : [guessNote(chosen.preprocessing, chosen.basis)],
  };
  const own = (model.getUserDefinedMetadata() ?? {}) as { classNames?: unknown };
  if (!info.classNames && Array.isArray(own.classNames) && own.classNames.length === classes && own.classNames.every((n) => typeof n === 'string')) {
    info.classNames = own.classNames as string[];
  }
  // The model's own metadata stays; what the user told us (preprocessing, names) is added over it.
  if (options.preprocess || options.classNamesFile) model.setUserDefinedMetadata({ ...own, ...userMetadata(info) });
  return { model, info };
}

async function detectFormat(file: string, isDir: boolean, options: ImportOptions): Promise<SourceFormat> {
  const ext = path.extname(file).toLowerCase();
  if (isDir || ext === '.json') return 'tfjs';
  if (ext === '.prototxt') throw new ImportFileError(`${file} is a Caffe structure file: give the .caffemodel weights as FILE and this file with --prototxt`);
  if (options.prototxt || ext === '.caffemodel') return 'caffe';
  if (ext === '.onnx') return 'onnx';
  // Unknown extension: JSON text is TensorFlow.js; otherwise whichever protobuf schema decodes it.
  const bytes = await readFile(file);
  if (/^\s*\{/.test(new TextDecoder().decode(bytes.subarray(0, 64)))) return 'tfjs';
  try {
    readOnnx(bytes, path.basename(file));
    return 'onnx';
  } catch (err) {
    if (!(err instanceof ImportFileError)) return 'onnx'; // an ONNX model, just an unsupported one: report that
  }
  try {
    readCaffe(bytes, path.basename(file));
    return 'caffe';
  } catch (err) {
    if (!(err instanceof ImportFileError)) return 'caffe';
  }
  throw new ImportFileError(`${file} is neither an ONNX model, a Caffe model nor a TensorFlow.js model.json (or it is truncated)`);
}

/**
 * A ConvScope run's export (export_onnx.py of an exported PyTorch package marks it with convscope.spec):
 * its preprocessing from the file's metadata (null when not stored); undefined for other files.
 */
function convscopePreprocess(metadata: Record<string, string>): Preprocessor | null | undefined {
  if (metadata['convscope.spec'] === undefined) return undefined;
  const text = metadata['convscope.preprocess'];
  if (text === undefined) return null;
  try {
    return parsePreprocessor(JSON.parse(text));
  } catch (err) {
    throw new ImportFileError(`the file's convscope.preprocess metadata is unusable: ${(err as Error).message}`);
  }
}

/** (pixel - mean) * s as an import preset: (pixel * s - mean * s) / 1. RGB order: never the BVLC guess. */
function runPreset(p: Preprocessor | null, channels: number): { preprocessing: Preprocessing; basis: string; guessed: boolean } {
  const plain = preset('none', channels);
  if (p === null) return { preprocessing: plain, basis: "a ConvScope run's export without its preprocessing: pixels are used as they are", guessed: true };
  if (p.kind === 'mean-image' || p.shape[2] !== channels) {
    return { preprocessing: plain, basis: `the ConvScope run used ${describePreprocessor(p)}, which has no per-channel form: open the run's model/ folder to keep it`, guessed: true };
  }
  const mean = p.kind === 'mean-pixel' ? p.mean.map((m) => m * p.scale) : new Array(channels).fill(0);
  return { preprocessing: { ...plain, scale: p.scale, mean }, basis: `the ConvScope run's own (${describePreprocessor(p)}), from the file's metadata`, guessed: false };
}

const GIVEN = 'given with --preprocess / --mean --std';

/**
 * The preprocessing: the user's; else, in this order, what the source format or the ONNX producer says
 * (a PyTorch export is never taken for a Caffe model, whatever its layout), then the layout alone (BVLC
 * AlexNet's, for an unknown producer), then pixels as they are. Everything but the user's is a guess.
 */
function choosePreprocessing(
  format: 'onnx' | 'caffe',
  producer: string | undefined,
  zoo: ZooMatch | null,
  input: readonly [number, number, number],
  choice?: PreprocessChoice,
): { preprocessing: Preprocessing; basis: string; guessed: boolean } {
  const guess = (name: NamedPreset, basis: string) => ({ preprocessing: preprocessingFor(name, input), basis, guessed: true });
  if (choice) return { preprocessing: preprocessingFor(choice, input), basis: GIVEN, guessed: false };
  const channels = input[2];
  const pytorch = /pytorch/i.test(producer ?? '');
  if (pytorch && channels === 3) return guess('torchvision-imagenet', `exported from PyTorch (producer '${producer}'): torchvision's ImageNet normalisation (RGB, mean/std)`);
  if (pytorch && channels === 1) return guess('scale', `exported from PyTorch (producer '${producer}'): pixels scaled to 0-1 as torchvision's ToTensor does`);
  if (channels !== 3) return guess('none', `a ${channels}-channel input: pixels are used as they are (0-255)`);
  if (format === 'caffe') return guess('caffe-imagenet', 'Caffe models take BGR pixels (0-255) minus the ImageNet mean (the BVLC convention)');
  if (/caffe/i.test(producer ?? '')) return guess('caffe-imagenet', `producer '${producer}' (converted from Caffe): BGR pixels minus the ImageNet mean`);
  const who = producer ? `producer '${producer}'` : 'no producer recorded';
  if (zoo?.spec.id === 'alexnet' && zoo.spec.options.lrn === true) {
    return guess('caffe-imagenet', `${who}; BVLC AlexNet's layout (LRN, grouped convolutions) suggests a Caffe conversion: BGR pixels minus the ImageNet mean`);
  }
  return guess('none', `${who}: pixels are used as they are (0-255)`);
}

function guessNote(p: Preprocessing, basis: string): string {
  return `the preprocessing '${p.preset}' is a guess (${basis}); if the model was trained otherwise, import again with --preprocess or --mean/--std`;
}

async function classNamesFor(classes: number, presetName: Preprocessing['preset'], file?: string): Promise<string[] | null> {
  if (file) {
    const names = (await readText(file)).split('\n').map((l) => l.trim()).filter(Boolean);
    if (names.length !== classes) throw new ImportFileError(`${file} has ${names.length} class names but the model has ${classes} outputs`);
    return names;
  }
  if (classes === 1000 && (presetName === 'caffe-imagenet' || presetName === 'torchvision-imagenet')) return imagenetClassNames();
  return null;
}

/**
 * Reorders the input channels (BGR -> RGB) of the layers that read the image, when they all are
 * ungrouped convolutions (through zero padding); returns false, changing nothing, otherwise.
 */
function reverseInputChannels(plan: LayerPlan): boolean {
  const readers = (from: number) => plan.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.inputs.includes(from));
  const convs: LayerPlan['layers'] = [];
  const collect = (from: number): boolean =>
    readers(from).every(({ l, i }) => {
      if (l.config.kind === 'zeroPad') return collect(i);
      if (l.config.kind === 'conv' && l.config.groups === 1) return convs.push(l) > 0;
      return false;
    });
  if (!collect(MODEL_INPUT) || convs.length === 0) return false;
  for (const conv of convs) {
    const [kh, kw, c, m] = conv.weights[0].shape;
    const k = conv.weights[0].values;
    const out = new Float32Array(k.length);
    for (let p = 0; p < kh * kw; p++) {
      for (let ch = 0; ch < c; ch++) out.set(k.subarray((p * c + ch) * m, (p * c + ch + 1) * m), (p * c + (c - 1 - ch)) * m);
    }
    conv.weights[0] = { shape: conv.weights[0].shape, values: out };
  }
  return true;
}

/**
 * A graph converted from Caffe often declares 224x224 and pads its pooling to reproduce Caffe's ceil rounding
 * there; at the zoo model's input size the same weights form exactly the zoo's layers. Tries each zoo model
 * whose layer kinds the plan already has, at that model's default input size.
 */
function rebaseToZooInput(graph: IrGraph, plan: LayerPlan): { plan: LayerPlan; zoo: ZooMatch } | null {
  const kinds = (ks: string[]) => ks.filter((k) => k !== 'dropout').join();
  const planKinds = kinds(plan.layers.map((l) => l.config.kind));
  for (const model of listModels()) {
    const [h, w, c] = model.input;
    if (c !== graph.input.shape[0] || (h === graph.input.shape[1] && w === graph.input.shape[2])) continue;
    if (kinds(getModelSpec(model.id).layers.map((l) => l.kind)) !== planKinds) continue;
    try {
      const rebased = lowerGraph({ ...graph, input: { ...graph.input, shape: [c, h, w] } });
      const zoo = matchZoo(rebased);
      if (zoo?.spec.id === model.id) return { plan: rebased, zoo };
    } catch {
      // the weights do not fit that size: not this model
    }
  }
  return null;
}

function modelName(file: string): string {
  const base = path.basename(file).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^[^A-Za-z]+/, '');
  return base || 'imported';
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ImportFileError(`${file} does not exist`);
    throw err;
  });
}
