// Writes bench/results.json and the generated tables of docs/PERFORMANCE.md (between marker comments,
// so that the hand-written analysis around them stays). A soak run updates only its own section.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchResults, MeasureOutcome, SoakOutcome } from './orchestrate';
import type { Figure } from './harness';
import { MEASURES } from './measures';
import type { SoakSample } from './soak';

export interface SoakResults {
  generatedAt: string;
  backend: string;
  outcome: SoakOutcome;
}

export interface ResultsFile {
  bench?: BenchResults;
  soak?: SoakResults;
}

export function readResults(file: string): ResultsFile {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ResultsFile) : {};
}

export function writeResults(file: string, results: ResultsFile): void {
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

const fmt = (v: number, digits = 1) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** A ratio with two decimals, or two significant digits below 0.1. */
const ratioText = (r: number) => `${r < 0.1 ? r.toPrecision(2) : fmt(r, 2)}x`;
const loadText = (f: Figure) => `${f.loadBefore[0]} → ${f.loadAfter[0]}`;

/** The peer AlexNet's parameter count as it printed it (the script refuses any other than ConvScope's). */
function peerParams(b: BenchResults): string {
  const r = b.peer.find((p) => p.model === 'alexnet' && typeof p.result?.params === 'number');
  return r ? `${Number(r.result!.params).toLocaleString('en-US')} parameters, as ConvScope's` : '60,965,224 parameters, as ConvScope\'s';
}

type PeerModel = 'lenet5' | 'alexnet';

/** The peer readings of one network that carry `key`, beside `backend` (any backend when null). */
function peerReadings(b: BenchResults, model: PeerModel, key: string, backend: string | null): number[] {
  return b.peer
    .filter((p) => (p.model ?? 'lenet5') === model && (backend === null || p.backend === backend) && typeof p.result?.[key] === 'number')
    .map((p) => Number(p.result![key]));
}

/** PyTorch at its best: the most images/s (or the fewest ms) among its readings at every thread count. */
function peerBest(b: BenchResults, model: PeerModel, key: string, backend: string | null, lowerIsBetter = false): number | null {
  const values = peerReadings(b, model, key, backend);
  if (values.length === 0) return null;
  return lowerIsBetter ? Math.min(...values) : Math.max(...values);
}

/** The PyTorch figure a measure is compared with, and whether smaller is better (latency). */
function peerFor(b: BenchResults, backend: string, measure: string): { value: number; lowerIsBetter: boolean } | null {
  const pick = (model: PeerModel, key: string, lowerIsBetter: boolean, beside: string | null) => {
    const value = peerBest(b, model, key, beside, lowerIsBetter);
    return value === null ? null : { value, lowerIsBetter };
  };
  if (['lenet-step', 'lenet-train', 'lenet-step-dp', 'lenet-train-dp', 'lenet-step-readback'].includes(measure)) return pick('lenet5', 'trainImagesPerSecond', false, backend);
  if (measure === 'lenet-infer-1') return pick('lenet5', 'inferLatencyMsBatch1', true, null);
  if (measure === 'lenet-infer-256') return pick('lenet5', 'inferImagesPerSecondBatch256', false, null);
  if (measure === 'alexnet-train' || measure === 'alexnet-train-dp') return pick('alexnet', 'trainImagesPerSecond', false, null);
  if (measure === 'alexnet-inspect') return pick('alexnet', 'inspectMedianMs', true, null);
  return null;
}

/** GFLOP/s a figure stands for, from the model's FLOPs per image. */
function achieved(b: BenchResults, measure: string, f: Figure): number | null {
  if (f.unit === 'GFLOP/s') return f.value;
  const model = measure.startsWith('alexnet') ? b.work.alexnet : b.work.lenet5;
  if (measure === 'lenet-profile') return null;
  const training = MEASURES[measure]?.training;
  const flops = training ? model.trainingFlops : model.forwardFlops;
  if (f.unit === 'images/s') return (f.value * flops) / 1e9;
  return flops / (f.value / 1000) / 1e9;
}

function outcomeCells(b: BenchResults, backend: string, measure: string, o: MeasureOutcome): string[] {
  const peak = b.peak.gflopsPerCore;
  if (o.status === 'ok' || o.status === 'too slow') {
    const f = o.figure;
    const figure = f.unit === 'ms' ? `${fmt(f.value, 2)} ms` : `${fmt(f.value)} ${f.unit}`;
    const g = achieved(b, measure, f);
    let ratio = '';
    const peer = peerFor(b, backend, measure);
    if (peer) ratio = ratioText(peer.lowerIsBetter ? peer.value / f.value : f.value / peer.value);
    const cpuPeer =
      ['lenet-step', 'lenet-step-dp', 'lenet-step-readback'].includes(measure) ? peerBest(b, 'lenet5', 'trainImagesPerCpuSecond', backend)
      : measure === 'alexnet-train' || measure === 'alexnet-train-dp' ? peerBest(b, 'alexnet', 'trainImagesPerCpuSecond', null)
      : null;
    const ours = Number(f.detail?.perCpuSecond);
    const perCpu = cpuPeer && ours > 0 ? `${ratioText(ours / cpuPeer)} (${fmt(ours, 0)} / ${fmt(cpuPeer, 0)})` : '';
    const status = o.status === 'too slow' ? `too slow (${f.steps} steps in ${fmt(f.seconds)} s; the cap, or LeNet-5 training under 100 images/s)` : `${f.steps} steps, ${fmt(f.seconds)} s`;
    return [figure, ratio, perCpu, g === null ? '' : fmt(g, 2), g === null ? '' : `${fmt((100 * g) / peak, 1)}%`, loadText(f), status];
  }
  if (o.status === 'killed') {
    const p = o.partial;
    const figure = p.value !== null && p.steps > 0 ? `${fmt(p.value)} ${p.unit} (partial)` : `< ${fmt(MEASURES[measure].training ? (measure.startsWith('alexnet') ? 32 : 128) / p.seconds : 1 / p.seconds, 2)} ${p.unit}`;
    return [figure, '', '', '', '', `${o.load[0]}`, `skipped: too slow (${o.reason}; ${p.steps} timed steps in ${fmt(p.seconds)} s)`];
  }
  const other = o as { status: string; reason: string };
  return ['', '', '', '', '', '', `${other.status}: ${other.reason}`];
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function benchMarkdown(b: BenchResults): string {
  const m = b.machine;
  const out: string[] = [];
  out.push(
    `Generated by \`${b.command}\` on ${b.generatedAt.slice(0, 16).replace('T', ' ')} UTC; ${b.seconds} s timed per measure after warm-up; LeNet-5 measures in ${b.rounds} rounds.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores at ${m.mhz} MHz (${m.simd}${m.fma ? ', FMA' : ''}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node} (V8 ${m.v8}). ` +
      `Load average (1/5/15 min) at start: ${m.loadAtStart.join(' / ')} on ${m.cores} cores.`,
    '',
    `Theoretical peak: ${fmt(b.peak.gflopsPerCore)} GFLOP/s per core, ${fmt(b.peak.gflops)} for the machine; WebAssembly SIMD128 at most ${fmt(b.peak.wasmSimd128GflopsPerCore)} per core. ` +
      `Assumption: ${b.peak.assumption}.`,
    '',
    '**The ideal** (multiply-adds of conv and dense layers x 2; training = 3 x forward):',
    '',
    table(
      ['model', 'forward MFLOP / image', 'training MFLOP / image'],
      Object.values(b.work).map((w) => [w.model, fmt(w.forwardFlops / 1e6, 1), fmt(w.trainingFlops / 1e6, 1)]),
    ),
    '',
    '**The peer**, PyTorch on the same machine in the same invocation, each reading at 1 thread and at one per core: the same LeNet-5 (batch 128, SGD lr 0.01, random 0-255 data) ' +
      `and the same AlexNet (${peerParams(b)}; LRN with ConvScope's constants, grouped conv2/4/5; training at batch 32, SGD momentum 0.9, weight decay 5e-4; inspection: the same JPEG decoded, scaled and centre-cropped, every layer's activation kept with its min / max / mean, top 5, median):`,
    '',
    table(
      ['when', 'model', 'threads', 'train img/s', 'infer ms (batch 1)', 'infer img/s (batch 256)', 'inspect ms (median)', 'peak GFLOP/s (conv 3x3 / matmul)', 'load (1 min)'],
      b.peer.map((p) => {
        const r = p.result ?? {};
        const cell = (k: string, digits = 1) => (typeof r[k] === 'number' ? fmt(Number(r[k]), digits) : '');
        const peak = typeof r.conv3x3GFlops === 'number' ? `${fmt(Number(r.conv3x3GFlops))} / ${fmt(Number(r.matmul1024GFlops))}` : '';
        const model = typeof r.conv3x3GFlops === 'number' ? '' : p.model === 'alexnet' ? 'AlexNet' : 'LeNet-5';
        const train = p.error ? `error: ${p.error}` : cell('trainImagesPerSecond', p.model === 'alexnet' ? 2 : 1);
        return [p.when, model, String(r.threads ?? ''), train, cell('inferLatencyMsBatch1', 3), cell('inferImagesPerSecondBatch256'), cell('inspectMedianMs', 2), peak, String(p.load[0])];
      }),
    ),
    '',
    '**ConvScope** (ratio: ours / PyTorch, for latency PyTorch / ours, so above 1 is faster than PyTorch; PyTorch = its best reading at any thread count, for LeNet-5 training among those taken right after each round; LeNet-5 figures = best of the rounds, every round’s value in results.json; per CPU-second: images per second of the process’s own CPU time, ours in the best round against PyTorch’s best, the fair comparison on a loaded machine):',
    '',
  );
  const rows: string[][] = [];
  for (const be of b.backends) {
    if (be.status === 'unavailable') {
      rows.push([be.backend, '(all)', '', '', '', '', '', '', `not available: ${be.reason}`]);
      continue;
    }
    for (const [measure, o] of Object.entries(be.measures)) {
      rows.push([be.backend, MEASURES[measure]?.title ?? measure, ...outcomeCells(b, be.backend, measure, o)]);
    }
  }
  out.push(table(['backend', 'measure', 'figure', 'vs PyTorch', 'per CPU-second vs PyTorch (img/CPU-s)', 'GFLOP/s', '% of 1-core peak', 'load before → after', 'notes'], rows));
  out.push('', 'Backend versions:', '');
  for (const be of b.backends.filter((x) => x.status === 'ran')) {
    const adapter = (be.detail?.adapter as { description?: string; software?: boolean } | undefined);
    out.push(`- ${be.backend} (tf backend '${be.tfBackend}'): ${Object.entries(be.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}` +
      `${be.detail?.simd !== undefined ? `, SIMD ${be.detail.simd ? 'on' : 'off'}, ${String(be.detail.threads)} thread(s)` : ''}` +
      `${adapter ? `, adapter ${adapter.description}${adapter.software ? ' (software)' : ''}` : ''}`);
  }
  for (const be of b.backends) {
    const prof = be.measures['lenet-profile'];
    if (!prof || (prof.status !== 'ok' && prof.status !== 'too slow')) continue;
    const d = prof.figure.detail as { kernelMsPerStep: number; wallMsPerProfiledStep: number; kernels: { kernel: string; callsPerStep: number; msPerStep: number; gflopPerStep: number; gflops: number | null }[] };
    out.push(
      '',
      `**Op-by-op profile, ${be.backend}**: one LeNet-5 training step (batch 128, tanh, SGD)${typeof be.detail?.threads === 'number' ? ` on ${be.detail.threads} thread${be.detail.threads === 1 ? '' : 's'}` : ''}, mean of ${prof.figure.steps} profiled steps; ` +
        `kernels ${fmt(d.kernelMsPerStep, 2)} ms of ${fmt(d.wallMsPerProfiledStep, 2)} ms wall per profiled step (load ${loadText(prof.figure)}).`,
      '',
      table(
        ['kernel', 'calls / step', 'ms / step', 'share', 'GFLOP / step', 'GFLOP/s', '% of 1-core peak'],
        d.kernels.map((k) => [k.kernel, fmt(k.callsPerStep, 0), fmt(k.msPerStep, 3), `${fmt((100 * k.msPerStep) / d.kernelMsPerStep, 1)}%`, k.gflopPerStep ? fmt(k.gflopPerStep, 4) : '', k.gflops === null ? '' : fmt(k.gflops, 2), k.gflops === null ? '' : `${fmt((100 * k.gflops) / b.peak.gflopsPerCore, 1)}%`]),
      ),
    );
  }
  return out.join('\n');
}

export function soakMarkdown(s: SoakResults): string {
  const o = s.outcome;
  if (o.status !== 'ok' && o.status !== 'too slow') {
    return `Soak on ${s.backend} (${s.generatedAt.slice(0, 16).replace('T', ' ')} UTC): ${'reason' in o ? o.reason : o.status}`;
  }
  const d = o.figure.detail as { samples: SoakSample[]; afterDispose: SoakSample; batch: number };
  return [
    `Soak: \`convscope bench --soak\` on ${s.backend}${o.threads ? ` (${o.threads} thread${o.threads === 1 ? '' : 's'})` : ''}, ${s.generatedAt.slice(0, 16).replace('T', ' ')} UTC: ${o.figure.steps.toLocaleString('en-US')} LeNet-5 steps at batch ${d.batch} through the Trainer ` +
      `(MNIST, per-epoch evaluation, kernel snapshots, layer statistics, checkpoints) in ${fmt(o.figure.seconds, 0)} s (${fmt(o.figure.value, 0)} images/s; load ${loadText(o.figure)}).`,
    '',
    table(
      ['step', 'tensors', 'tensor MiB', 'RSS MiB', 'JS heap MiB', 'external + array buffers MiB', 'load (1 min)'],
      [...d.samples, { ...d.afterDispose, step: -1 }].map((x) => [x.step === -1 ? 'after dispose' : x.step.toLocaleString('en-US'), String(x.numTensors), fmt(x.numBytes / 2 ** 20, 2), fmt(x.rssMiB), fmt(x.heapUsedMiB), fmt(x.externalMiB), String(x.load1)]),
    ),
  ].join('\n');
}

/** Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` (appends the section if absent). */
export function replaceSection(doc: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${body}\n${close}`;
  const i = doc.indexOf(open);
  const j = doc.indexOf(close);
  if (i < 0 || j < i) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, i) + block + doc.slice(j + close.length);
}

export function updateDoc(file: string, results: ResultsFile): void {
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n';
  if (results.bench) doc = replaceSection(doc, 'results', benchMarkdown(results.bench));
  if (results.soak) doc = replaceSection(doc, 'soak', soakMarkdown(results.soak));
  writeFileSync(file, doc);
}

