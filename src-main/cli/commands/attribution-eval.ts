import path from 'node:path';
import { choiceFlag, intFlag, numberFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { initBackend } from '../../engine/backend';
import { modelIds, parseOverrides } from '../../engine/models';
import { resolveModel } from '../../engine/inspect/model-ref';
import { datasetInputs } from '../../engine/inspect/attribution/dataset-inputs';
import { evaluateAttributions, type FaithfulnessReport } from '../../engine/inspect/attribution/evaluate';
import { mostFaithful, writeAttributionReport } from '../../engine/inspect/attribution/report';
import { ATTRIBUTION_METHODS, isAttributionMethod, type AttributionMethod } from '../../engine/inspect/attribution/target';

export const HELP = `usage: convscope attribution-eval --model REF --dataset D [options]

How faithful each attribution method is (Petsiuk et al.'s deletion and insertion curves), averaged over
the first N held-out images; a seeded random map is measured beside them as the floor.
  --model REF          a zoo model (${modelIds().join(', ')}), a run folder, a model folder or a model.json
  --dataset D          mnist, fashion-mnist or folder:PATH (a run trained on it uses its own split and preprocessing)
  --methods LIST       comma-separated, from ${ATTRIBUTION_METHODS.join(', ')} (default: all)
  --limit N            images (default 100)
  --layer NAME         the CAM methods' layer (default: the last convolution)
  --steps K            points per curve: the step is ceil(pixels / K) pixels (default 50)
  --fill F             deletion sets pixels to: zero (default, in the model's input space) or mean
  --blur-sigma S       insertion starts from the image blurred with this sigma in pixels (default max(2, 5 x side / 224))
  --set key=value      zoo models: an option, repeatable
  --out DIR            write report.md, metrics.json and the curves (SVG, PNG)
  --json               print the figures as JSON
  --backend B          auto (default), gpu, webgpu, node, wasm or cpu`;

const OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  methods: { type: 'string' },
  limit: { type: 'string' },
  layer: { type: 'string' },
  steps: { type: 'string' },
  fill: { type: 'string' },
  'blur-sigma': { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

function parseMethods(list: string | undefined): AttributionMethod[] {
  if (list === undefined) return [...ATTRIBUTION_METHODS];
  const ids = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((id) => !isAttributionMethod(id));
  if (bad.length || ids.length === 0) throw new UsageError(`--methods: unknown method ${bad.map((b) => `'${b}'`).join(', ') || '(none given)'} (methods: ${ATTRIBUTION_METHODS.join(', ')})`);
  return [...new Set(ids as AttributionMethod[])];
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a zoo id, a run folder, a model folder or a model.json)');
  if (!values.dataset) throw new UsageError('--dataset is required (mnist, fashion-mnist or folder:PATH)');
  const methods = parseMethods(values.methods);
  const limit = intFlag('limit', values.limit, 100);
  const steps = intFlag('steps', values.steps, 50);
  const blurSigma = values['blur-sigma'] === undefined ? undefined : numberFlag('blur-sigma', values['blur-sigma'], 0, 0.1);
  const fill = choiceFlag('fill', values.fill, ['zero', 'mean'] as const, 'zero');
  const started = performance.now();
  const backend = await initBackend(values.backend);
  const resolved = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
  try {
    const data = await datasetInputs(resolved, values.dataset);
    const [h, w] = resolved.input;
    const report = await evaluateAttributions(resolved.model, data, methods, {
      limit,
      layer: values.layer,
      fill,
      blurSigma,
      stepSize: Math.ceil((h * w) / steps),
      onProgress: (done, total) => {
        if (!values.json) process.stderr.write(`\r${done}/${total} images`);
      },
    });
    if (!values.json) process.stderr.write('\n');
    const ctx = {
      command: ['convscope', 'attribution-eval', ...argv].join(' '),
      model: values.model,
      dataset: values.dataset,
      backend: backend.chosen,
      wallSeconds: (performance.now() - started) / 1000,
    };
    if (values.json) process.stdout.write(JSON.stringify({ context: ctx, ...report }, null, 2) + '\n');
    else process.stdout.write(formatText(report) + '\n');
    if (values.out !== undefined) {
      const files = await writeAttributionReport(values.out, report, ctx);
      process.stderr.write(`wrote ${files.length} files under ${path.resolve(values.out)}\n`);
    }
    return 0;
  } finally {
    resolved.model.dispose();
  }
}

function formatText(report: FaithfulnessReport): string {
  const best = mostFaithful(report);
  const width = Math.max(...report.methods.map((m) => m.method.length));
  return [
    `${report.images} images, top-1 accuracy ${(100 * report.accuracy).toFixed(1)}%, step ${report.stepSize} of ${report.pixels} pixels, deletion fill ${report.fill}, insertion blur sigma ${report.blurSigma.toFixed(2)} px`,
    `${'method'.padEnd(width)}  deletion AUC  insertion AUC  ms/map`,
    ...report.methods.map((m) => `${m.method.padEnd(width)}  ${m.deletionAuc.mean.toFixed(4).padStart(12)}  ${m.insertionAuc.mean.toFixed(4).padStart(13)}  ${m.msPerMap.toFixed(1).padStart(6)}`),
    `most faithful: ${best.deletion.method} by deletion, ${best.insertion.method} by insertion`,
  ].join('\n');
}
