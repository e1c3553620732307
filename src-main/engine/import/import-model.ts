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
import type { IrGraph } from './ir';
import { lowerGraph } from './lower';
import { MODEL_INFO_JSON, type ImportedModelInfo } from './model-info';
import { readOnnx } from './onnx';
import { MODEL_INPUT, type LayerPlan } from './plan';
import { asRgb, imagenetClassNames, preset, toDataPreprocessor, type PresetName, type Preprocessing } from './preprocess';
import { readTfjsModel } from './tfjs-model';
import { buildZooModel, matchZoo, type ZooMatch } from './zoo-match';

export interface ImportOptions {
  /** Caffe: the deploy prototxt that defines the structure (the caffemodel's own net is used without it). */
  prototxt?: string;
  /** Overrides the preprocessing guessed from the source. */
  preprocess?: PresetName;
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
  let graphSource: { graph: IrGraph; producer?: string; opset?: number; notes: string[]; format: 'onnx' | 'caffe'; prototxt?: string; convscope?: Preprocessor | null | undefined };
  if (format === 'onnx') {
    const onnx = readOnnx(bytes, fileName);
    graphSource = { graph: onnx.graph, producer: onnx.producer || undefined, opset: onnx.opset, notes: [], format, convscope: convscopePreprocess(onnx.metadata) };
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

  const chosen = graphSource.convscope !== undefined && !options.preprocess ? runPreset(graphSource.convscope, channels) : choosePreset(graphSource.format, graphSource.producer, zoo, channels, options.preprocess);
  let preprocessing: Preprocessing = chosen.preprocessing;
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
    source: { format: graphSource.format, file: fileName, ...(graphSource.prototxt ? { prototxt: graphSource.prototxt } : {}), ...(graphSource.producer ? { producer: graphSource.producer } : {}), ...(graphSource.opset ? { opset: graphSource.opset } : {}) },
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
    ? { preprocessing: preset(options.preprocess, channels), basis: 'given with --preprocess' }
    : { preprocessing: preset('none', channels), basis: 'a TensorFlow.js model does not record its preprocessing; pass --preprocess if it needs one' };
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
    notes: [],
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
function runPreset(p: Preprocessor | null, channels: number): { preprocessing: Preprocessing; basis: string } {
  const plain = preset('none', channels);
  if (p === null) return { preprocessing: plain, basis: "a ConvScope run's export without its preprocessing: pixels are used as they are; pass --preprocess" };
  if (p.kind === 'mean-image' || p.shape[2] !== channels) {
    return { preprocessing: plain, basis: `the ConvScope run used ${describePreprocessor(p)}, which has no per-channel form: open the run's model/ folder to keep it` };
  }
  const mean = p.kind === 'mean-pixel' ? p.mean.map((m) => m * p.scale) : new Array(channels).fill(0);
  return { preprocessing: { ...plain, scale: p.scale, mean }, basis: `the ConvScope run's own (${describePreprocessor(p)}), from the file's metadata` };
}

function choosePreset(format: 'onnx' | 'caffe', producer: string | undefined, zoo: ZooMatch | null, channels: number, override?: PresetName): { preprocessing: Preprocessing; basis: string } {
  if (override) return { preprocessing: preset(override, channels), basis: 'given with --preprocess' };
  if (channels !== 3) return { preprocessing: preset('none', channels), basis: `a ${channels}-channel input: pixels are used as they are; pass --preprocess if the model needs more` };
  if (format === 'caffe') return { preprocessing: preset('caffe-imagenet', 3), basis: 'Caffe models take BGR pixels (0-255) minus the ImageNet mean (the BVLC convention)' };
  const bvlcLayout = zoo?.spec.id === 'alexnet' && zoo.spec.options.lrn === true;
  if (bvlcLayout || /caffe/i.test(producer ?? '')) {
    return { preprocessing: preset('caffe-imagenet', 3), basis: bvlcLayout ? "BVLC AlexNet's layout (converted from Caffe): BGR pixels minus the ImageNet mean" : `producer '${producer}' (converted from Caffe): BGR pixels minus the ImageNet mean` };
  }
  if (/pytorch/i.test(producer ?? '')) return { preprocessing: preset('torchvision-imagenet', 3), basis: "exported from PyTorch: torchvision's ImageNet normalisation (RGB, mean/std)" };
  return { preprocessing: preset('none', 3), basis: `unknown producer${producer ? ` '${producer}'` : ''}: pixels are used as they are; pass --preprocess` };
}

async function classNamesFor(classes: number, presetName: PresetName, file?: string): Promise<string[] | null> {
  if (file) {
    const names = (await readText(file)).split('\n').map((l) => l.trim()).filter(Boolean);
    if (names.length !== classes) throw new ImportFileError(`${file} has ${names.length} class names but the model has ${classes} outputs`);
    return names;
  }
  if (classes === 1000 && presetName !== 'none') return imagenetClassNames();
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
