import { intFlag, parseFlags, THREADS_HELP, threadsFlag } from '../args';
import { UsageError } from '../errors';
import { initBackend } from '../../engine/backend';
import { confusionRows, evaluateModel, cellExamples, type Evaluation } from '../../engine/inspect/evaluate';
import { deadRelus, type DeadReluReport } from '../../engine/inspect/dead-relu';
import { resolveModel } from '../../engine/inspect/model-ref';
import { classLabel } from '../../engine/inspect/predictions';
import { openHeldOut } from '../../engine/inspect/run-data';

export const HELP = `usage: convscope eval --model RUN_DIR [options]

Evaluates a run's model on its held-out examples (the dataset's test split, or the validation examples
the run held out): accuracy, top-1 and top-5 error, confusion matrix.
  --checkpoint N   the checkpoint at step N (default: the latest)
  --limit N        the first N held-out examples only
  --batch N        examples per forward pass (default 64)
  --dead-relus     also: per ReLU layer, the channels zero on every one of the first --probe examples
  --probe N        probe set size for --dead-relus (default 256)
  --json           {examples, accuracy, top1Error, top5Error, classNames, confusion:[[...]], misclassified:[{true, predicted, examples}]}
  --backend B      auto (default), gpu, webgpu, node, wasm or cpu
  --threads N      ${THREADS_HELP}
Progress goes to stderr.`;

const OPTIONS = {
  model: { type: 'string' },
  checkpoint: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  'dead-relus': { type: 'boolean' },
  probe: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
  threads: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model RUN_DIR is required');
  const checkpoint = values.checkpoint === undefined ? undefined : intFlag('checkpoint', values.checkpoint, 0, 0);
  const limit = values.limit === undefined ? undefined : intFlag('limit', values.limit, 1);
  const batchSize = intFlag('batch', values.batch, 64);
  const probeSize = intFlag('probe', values.probe, 256);
  const threads = threadsFlag(values.threads);
  await initBackend(values.backend, threads === undefined ? {} : { threads });
  const resolved = await resolveModel(values.model, { checkpoint });
  try {
    const heldOut = await openHeldOut(resolved.source);
    for (const w of heldOut.warnings) process.stderr.write(`warning: ${w}\n`);
    const names = heldOut.classNames ?? resolved.classNames;
    const progress = process.stderr.isTTY ? (done: number, total: number) => process.stderr.write(`\revaluating ${done}/${total}`) : undefined;
    const evaluation = await evaluateModel(resolved.model, heldOut.split, { batchSize, limit, onProgress: progress });
    if (progress) process.stderr.write('\n');
    const dead = values['dead-relus'] ? await deadRelus(resolved.model, heldOut.split, { probeSize, batchSize: Math.min(batchSize, 32) }) : null;
    const src = resolved.source;
    const where = src.kind === 'run' ? `${src.runDir} (${src.from === 'checkpoint' ? `checkpoint at step ${src.step}` : src.from === 'initial' ? 'initial weights, step 0' : 'saved model'})` : values.model;
    if (values.json) process.stdout.write(JSON.stringify(toJson(where, heldOut.kind, evaluation, names, dead), null, 2) + '\n');
    else process.stdout.write(formatText(where, `${heldOut.dataset} ${heldOut.kind}`, evaluation, names, dead) + '\n');
    return 0;
  } finally {
    resolved.model.dispose();
  }
}

function toJson(model: string, heldOut: string, e: Evaluation, names: readonly string[] | null, dead: DeadReluReport | null) {
  const misclassified: { true: number; predicted: number; examples: number[] }[] = [];
  for (let t = 0; t < e.classes; t++) {
    for (let p = 0; p < e.classes; p++) {
      if (t !== p && e.confusion[t * e.classes + p] > 0) misclassified.push({ true: t, predicted: p, examples: Array.from(cellExamples(e, t, p)) });
    }
  }
  return {
    model,
    heldOut,
    examples: e.examples,
    accuracy: e.accuracy,
    top1Error: e.top1Error,
    top5Error: e.top5Error,
    classNames: Array.from({ length: e.classes }, (_, i) => classLabel(i, names)),
    confusion: confusionRows(e),
    misclassified,
    ...(dead
      ? { deadRelus: { probeSize: dead.probeSize, layers: dead.layers.map((l) => ({ layer: l.layer, channels: l.channels, dead: l.dead, deadFraction: Array.from(l.deadFraction) })) } }
      : {}),
  };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function formatText(model: string, heldOut: string, e: Evaluation, names: readonly string[] | null, dead: DeadReluReport | null): string {
  const lines = [
    `model: ${model}`,
    `examples: ${e.examples} (${heldOut})`,
    `accuracy ${pct(e.accuracy)}   top-1 error ${pct(e.top1Error)}   top-5 error ${e.top5Error === null ? 'n/a (5 classes or fewer)' : pct(e.top5Error)}`,
    '',
  ];
  const label = (i: number) => classLabel(i, names);
  if (e.classes <= 20) {
    lines.push('confusion matrix (rows: true class, columns: predicted class):');
    const width = Math.max(5, ...Array.from(e.confusion, (c) => String(c).length + 1));
    const rowHead = Math.max(...Array.from({ length: e.classes }, (_, i) => label(i).length));
    lines.push(' '.repeat(rowHead) + Array.from({ length: e.classes }, (_, p) => String(p).padStart(width)).join(''));
    for (const [t, row] of confusionRows(e).entries()) lines.push(label(t).padEnd(rowHead) + row.map((c) => String(c).padStart(width)).join(''));
    if (names && names.some((n, i) => n !== String(i))) lines.push('', `columns: ${Array.from({ length: e.classes }, (_, i) => `${i} = ${label(i)}`).join(', ')}`);
  } else {
    lines.push('most frequent confusions (true -> predicted: count):');
    const cells: [number, number, number][] = [];
    for (let t = 0; t < e.classes; t++) for (let p = 0; p < e.classes; p++) if (t !== p && e.confusion[t * e.classes + p] > 0) cells.push([t, p, e.confusion[t * e.classes + p]]);
    cells.sort((a, b) => b[2] - a[2]);
    for (const [t, p, n] of cells.slice(0, 15)) lines.push(`  ${label(t)} -> ${label(p)}: ${n}`);
  }
  if (dead) {
    lines.push('', `dead ReLUs (zero on all ${dead.probeSize} probe examples):`);
    for (const l of dead.layers) {
      const meanFraction = l.deadFraction.reduce((s, v) => s + v, 0) / Math.max(1, l.channels);
      lines.push(`  ${l.layer}: ${l.dead.length}/${l.channels} dead; a channel is silent on ${pct(meanFraction)} of the probe images on average`);
    }
  }
  return lines.join('\n');
}
