import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseFlags, choiceFlag } from '../args';
import { tf } from '../../engine/tf';
import { summarizeModel } from '../../engine/models';
import { importModel, saveImportedModel, NAMED_PRESETS, MODEL_INFO_JSON, type ImportedModelInfo, type PreprocessChoice } from '../../engine/import';
import { UsageError } from '../errors';

export const HELP = `usage: convscope import FILE [--prototxt FILE] [--out DIR] [--json]
                        [--preprocess caffe-imagenet|torchvision-imagenet|scale|none | --mean M[,M,M] --std S[,S,S]]
                        [--classes FILE]

Converts a pretrained model into a ConvScope model folder (model.json + weights.bin + ${MODEL_INFO_JSON}).
  FILE              an ONNX model (.onnx), Caffe weights (.caffemodel) or a TensorFlow.js LayersModel (model.json or its folder)
  --prototxt FILE   Caffe: the deploy prototxt (structure and input size) for the caffemodel
  --out DIR         where to write the folder (default: ./imported/<model name>); an existing model folder is replaced
  --preprocess P    override the input preprocessing guessed from the source: caffe-imagenet (BGR minus the ImageNet
                    mean) or torchvision-imagenet (RGB 0-1, ImageNet mean/std) for 3-channel models; scale (pixels / 255)
                    or none (pixels 0-255) for any
  --mean, --std     instead of --preprocess: pixels scaled to 0-1, then (x - mean) / std per channel (torchvision's
                    Normalize), one value per input channel, e.g. --mean 0.1307 --std 0.3081 for MNIST
  --classes FILE    class names, one per line in output order (ImageNet names are attached to 1000-class ImageNet models)
  --json            print {source, out, name, zoo, params, input, preprocessing, classes, notes} as JSON`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      prototxt: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      preprocess: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      classes: { type: 'string' },
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError(`give one model FILE to import (got ${positionals.length}); see convscope import --help`);
  const preprocess = preprocessChoice(values.preprocess, values.mean, values.std);

  await tf.setBackend('cpu');
  const started = performance.now();
  const imported = await importModel(positionals[0], { prototxt: values.prototxt, preprocess, classNamesFile: values.classes });
  try {
    const out = values.out ?? path.join('imported', imported.info.name);
    await checkOut(out);
    const saved = await saveImportedModel(imported, out);
    const summary = summarizeModel(imported.model);
    const seconds = (performance.now() - started) / 1000;
    const info = imported.info;
    if (values.json) {
      const { basis, ...preprocessing } = info.preprocessing;
      const report = {
        source: info.source,
        out,
        files: { model: saved.modelJsonPath, weights: saved.weightsPath, info: saved.infoPath },
        weightBytes: saved.weightBytes,
        name: info.name,
        zoo: info.zoo,
        params: summary.totalParams,
        layers: summary.layers.length,
        input: info.input,
        preprocessing: { ...preprocessing, basis },
        output: info.output,
        classNames: info.classNames ? (info.classNames.length === 1000 && info.preprocessing.preset !== 'none' && !values.classes ? 'imagenet' : 'given') : null,
        notes: info.notes,
        seconds: Number(seconds.toFixed(2)),
      };
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      process.stdout.write(describe(info, summary.totalParams, out, saved.weightBytes, seconds) + '\n');
    }
  } finally {
    imported.model.dispose();
  }
  return 0;
}

/** --preprocess NAME, or --mean/--std (either alone: the other is 0 / 1 for every channel it gives). */
function preprocessChoice(name: string | undefined, mean: string | undefined, std: string | undefined): PreprocessChoice | undefined {
  if (mean === undefined && std === undefined) return name === undefined ? undefined : choiceFlag('preprocess', name, NAMED_PRESETS, 'none');
  if (name !== undefined) throw new UsageError('give either --preprocess or --mean/--std, not both');
  const m = mean === undefined ? undefined : numberList('mean', mean);
  const s = std === undefined ? undefined : numberList('std', std);
  return { mean: m ?? s!.map(() => 0), std: s ?? m!.map(() => 1) };
}

function numberList(flag: string, text: string): number[] {
  const values = text.split(',').map((t) => t.trim());
  const numbers = values.map(Number);
  if (values.some((t) => t === '') || !numbers.every(Number.isFinite)) throw new UsageError(`--${flag} must be numbers separated by commas (one per input channel), got '${text}'`);
  return numbers;
}

/** The output folder must be new, empty or a model folder (re-importing replaces it). */
async function checkOut(out: string): Promise<void> {
  const s = await stat(out).catch(() => null);
  if (!s) return;
  if (!s.isDirectory()) throw new UsageError(`--out ${out} is a file, not a folder`);
  const entries = await readdir(out);
  if (entries.length > 0 && !entries.includes('model.json')) throw new UsageError(`--out ${out} exists and is not a model folder; choose another --out`);
}

function describe(info: ImportedModelInfo, params: number, out: string, weightBytes: number, seconds: number): string {
  const p = info.preprocessing;
  const fmt = (xs: number[]) => `[${xs.map((x) => Number(x.toFixed(5))).join(', ')}]`;
  const source = `${info.source.file} (${info.source.format}${info.source.prototxt ? ` with ${info.source.prototxt}` : ''}${info.source.producer ? `, from ${info.source.producer}` : ''})`;
  const lines = [
    `imported ${source} in ${seconds.toFixed(1)} s`,
    `  model        ${info.name}: ${params.toLocaleString('en-US')} params, input ${info.input.height}x${info.input.width}x${info.input.channels}, ${info.output.classes} outputs${info.output.softmax ? ' (softmax)' : ' (logits)'}`,
    info.zoo
      ? `  zoo          matches '${info.zoo.id}'${Object.keys(info.zoo.options).length ? ` with ${Object.entries(info.zoo.options).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}: the zoo's views apply`
      : '  zoo          no zoo model has this layout: imported as a generic layer graph',
    ...(info.zoo?.patched.length ? info.zoo.patched.map((x) => `  from source  ${x}`) : []),
    `  preprocess   ${p.preset}: ${p.channelOrder}, x = (pixel * ${Number(p.scale.toFixed(6))} - ${fmt(p.mean)}) / ${fmt(p.std)}${p.resizeShorterSide ? `, shorter side to ${p.resizeShorterSide} then centre crop` : ''}`,
    `               (${p.basis})`,
    `  classes      ${info.classNames ? `${info.classNames.length} names (${info.classNames.slice(0, 3).join('; ')}; ...)` : 'no names (class N)'}`,
    ...info.notes.map((n) => `  note         ${n}`),
    `wrote ${out}/ (model.json, weights.bin ${(weightBytes / 1e6).toFixed(1)} MB, ${MODEL_INFO_JSON})`,
  ];
  return lines.join('\n');
}
