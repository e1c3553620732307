import path from 'node:path';
import { intFlag, parseFlags, THREADS_HELP, threadsFlag } from '../args';
import { UsageError } from '../errors';
import { initBackend } from '../../engine/backend';
import { formatShape, layerKind, parseOverrides, modelIds } from '../../engine/models';
import { convKernels } from '../../engine/inspect/kernels';
import { inspectImage, type Inspection, type LayerReport } from '../../engine/inspect/inspect';
import { gradientsUnavailable } from '../../engine/inspect/gradients';
import { resolveModel, type ResolvedModel } from '../../engine/inspect/model-ref';
import { writeInspectionPngs } from '../../engine/inspect/render/write-inspection';
import { ATTRIBUTION_METHODS, isAttributionMethod, type AttributionMethod } from '../../engine/inspect/attribution/target';

const ZOO_IDS = modelIds().join(', ');

export const HELP = `usage: convscope inspect --model ID|RUN_DIR|MODEL_JSON --image PATH [options]

Runs one image through the model and shows what every layer computed.
  --model REF          a zoo model (${ZOO_IDS}), a run folder, a model folder or model.json, or an .onnx or
                       .caffemodel file (imported on the fly into ~/.cache/convscope/imports, keyed by its content)
  --image PATH         any common image (PNG, JPEG, WebP, GIF, ...)
  --set key=value      zoo models: an option, repeatable (e.g. --set width=0.25)
  --checkpoint N       run folders: the checkpoint at step N, the latest (default) or the one before it;
                       0: the run's initial weights
  --layer NAME         report (and draw) only this layer
  --top K              predictions to show (default 5)
  --out DIR            write PNGs: input, activations/, kernels/, and one per attribution method:
                       METHOD.png (CAM methods: overlaid on the input, with METHOD-LAYER-map.png beside)
  --attribution LIST   with --out: the attribution methods, comma-separated (default saliency,gradcam):
                       ${ATTRIBUTION_METHODS.join(', ')} (or all)
  --class N            the class the attributions explain (default: the top prediction)
  --target-layer NAME  the layer of the CAM methods, gradcam, gradcam++ and scorecam (default: the last
                       convolution); --gradcam-layer is the same option
  --json               {input:{width,height,channels}, predictions:[{label,prob}], layers:[{name,type,shape,stats,deadChannels}]}
                       (with --out also attributions:[{method,classIndex,score,layer}])
  --backend B          auto (default), gpu, webgpu, node, wasm or cpu
  --threads N          ${THREADS_HELP}`;

const OPTIONS = {
  model: { type: 'string' },
  image: { type: 'string' },
  set: { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  layer: { type: 'string' },
  top: { type: 'string' },
  class: { type: 'string' },
  'gradcam-layer': { type: 'string' },
  'target-layer': { type: 'string' },
  attribution: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  threads: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a zoo id, a run folder, a model.json or an .onnx file)');
  if (!values.image) throw new UsageError('--image is required');
  const checkpoint = values.checkpoint === undefined ? undefined : intFlag('checkpoint', values.checkpoint, 0, 0);
  const classIndex = values.class === undefined ? undefined : intFlag('class', values.class, 0, 0);
  const top = intFlag('top', values.top, 5);
  const drawing = values.out !== undefined;
  let methods = attributionMethods(values.attribution, drawing);
  if (values['target-layer'] !== undefined && values['gradcam-layer'] !== undefined) throw new UsageError('--target-layer and --gradcam-layer are the same option; give one');
  const threads = threadsFlag(values.threads);
  await initBackend(values.backend, threads === undefined ? {} : { threads });
  const resolved = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []), checkpoint });
  try {
    const names = resolved.model.layers.filter((l) => layerKind(l) !== 'input').map((l) => l.name);
    for (const flag of ['layer', 'gradcam-layer', 'target-layer'] as const) {
      const name = values[flag];
      if (name !== undefined && !names.includes(name)) throw new UsageError(`--${flag}: the model has no layer '${name}' (layers: ${names.join(', ')})`);
    }
    const targetLayer = values['target-layer'] ?? values['gradcam-layer'];
    const noGradients = drawing ? gradientsUnavailable(resolved.model) : null;
    if (noGradients) {
      // Score-CAM needs only forward passes.
      const skipped = methods.filter((m) => m !== 'scorecam');
      if (skipped.length > 0) process.stderr.write(`note: ${noGradients}: --out writes the other images (not ${skipped.join(', ')})\n`);
      methods = methods.filter((m) => m === 'scorecam');
    }
    const inspection = await inspectImage(resolved, values.image, {
      topK: top,
      ...(methods.length > 0 ? { attributions: { methods, layer: targetLayer, classIndex } } : {}),
    });
    const layers = values.layer === undefined ? inspection.layers : inspection.layers.filter((l) => l.name === values.layer);
    if (values.json) process.stdout.write(JSON.stringify(toJson(inspection, layers), null, 2) + '\n');
    else process.stdout.write(formatText(resolved, inspection, layers) + '\n');
    if (values.out !== undefined) {
      const files = await writeInspectionPngs(inspection, values.out, { layer: values.layer, kernels: values.layer === undefined ? await convKernels(resolved.model) : [] });
      process.stderr.write(`wrote ${files.length} PNG files under ${path.resolve(values.out)}\n`);
    }
    return 0;
  } finally {
    resolved.model.dispose();
  }
}

/** --attribution's list (with --out only; default saliency and Grad-CAM), each method once, in the given order. */
function attributionMethods(list: string | undefined, drawing: boolean): AttributionMethod[] {
  if (list === undefined) return drawing ? ['saliency', 'gradcam'] : [];
  if (!drawing) throw new UsageError('--attribution draws maps: give --out DIR too');
  const ids = list.trim() === 'all' ? [...ATTRIBUTION_METHODS] : list.split(',').map((m) => m.trim());
  const unknown = ids.find((m) => !isAttributionMethod(m));
  if (unknown !== undefined) throw new UsageError(`--attribution: unknown method '${unknown}' (${ATTRIBUTION_METHODS.join(', ')} or all)`);
  return [...new Set(ids as AttributionMethod[])];
}

function layerJson(l: LayerReport) {
  return {
    name: l.name,
    type: l.className,
    shape: l.shape,
    stats: l.stats,
    ...(l.deadChannels ? { deadChannels: l.deadChannels } : {}),
    ...(l.saturatedFraction !== undefined ? { saturatedFraction: l.saturatedFraction } : {}),
  };
}

function toJson(inspection: Inspection, layers: LayerReport[]) {
  const { width, height, channels } = inspection.input;
  return {
    input: { width, height, channels },
    predictions: inspection.predictions.map(({ label, prob, index }) => ({ label, prob, index })),
    layers: layers.map(layerJson),
    ...(inspection.attributions ? { attributions: inspection.attributions.map(({ method, classIndex, score, layer }) => ({ method, classIndex, score, ...(layer === undefined ? {} : { layer }) })) } : {}),
  };
}

function formatText(resolved: ResolvedModel, inspection: Inspection, layers: LayerReport[]): string {
  const { input } = inspection;
  const src = resolved.source;
  const from = src.kind === 'zoo' ? `zoo model ${src.id} (untrained, seed 0)` : src.kind === 'run' ? `run ${src.runDir} (${src.from === 'checkpoint' ? `checkpoint at step ${src.step}` : src.from === 'initial' ? 'initial weights, step 0' : 'saved model'})` : src.importedFrom ? `${src.importedFrom}, imported into ${src.dir}` : `model folder ${src.dir}`;
  const lines = [
    `model: ${from}`,
    `input: ${input.original.format} ${input.original.width}x${input.original.height} -> ${input.height}x${input.width}x${input.channels}, ${resolved.prepare.description}`,
    ...resolved.notes.map((n) => `note: ${n}`),
    '',
    'predictions:',
    ...inspection.predictions.map((p) => `  ${(100 * p.prob).toFixed(2).padStart(6)}%  ${p.label}`),
    '',
  ];
  const rows = layers.map((l) => {
    const extra = l.deadChannels ? `dead ${l.deadChannels.length}/${l.shape.at(-1)}` : l.saturatedFraction !== undefined ? `saturated ${(100 * l.saturatedFraction).toFixed(1)}%` : '';
    return [l.name, l.className, formatShape(l.shape), num(l.stats.min), num(l.stats.max), num(l.stats.mean), `${(100 * l.stats.zeroFraction).toFixed(1)}%`, extra];
  });
  const head = ['layer', 'type', 'shape', 'min', 'max', 'mean', 'zeros', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [...lines, fmt(head), ...rows.map(fmt)].join('\n');
}

function num(v: number): string {
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3);
}
