// An experiment's report: report.md (headed by the exact command, data, seeds, machine, backend and wall
// time), the plots as SVG and PNG (drawn by the renderer's own chart code), and metrics.json.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { lineChartSvg, type Series } from '../../../src-renderer/src/charts/line-chart';
import type { Recipe, Published } from './recipes';
import type { ArmRun } from './runner';
import { compare, epochsToReach, spread, type Spread } from './stats';

export interface ReportContext {
  command: string;
  backend: string;
  wallSeconds: number;
  seeds: number;
  /** Training examples per run. */
  trainExamples: number;
  testExamples: number | null;
}

export interface MetricsFile {
  experiment: string;
  version: number;
  context: ReportContext;
  arms: {
    arm: string;
    label: string;
    seeds: { seed: number; runDir: string; trainLoss: number[]; testAccuracy: number | null; diverged: ArmRun['diverged']; stalled: ArmRun['stalled']; deadChannels: Record<string, number> | null }[];
  }[];
  plots: { file: string; series: { name: string; xs: number[]; ys: number[] }[] }[];
}

interface Plot {
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  yDomain?: [number, number];
}

/** Runs whose numbers describe a trained network (not a diverged or stalled one). */
const trained = (r: ArmRun) => !r.diverged && !r.stalled;

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const fmtSpread = (s: Spread, digits = 4) => (s.n === 0 ? '–' : s.n === 1 ? fmt(s.mean, digits) : `${fmt(s.mean, digits)} ± ${fmt(s.sd, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`);

/** Dead channels per ReLU layer in the run's last layer-statistics record. */
function lastDeadChannels(run: ArmRun): Record<string, number> | null {
  const last = run.layerStats.at(-1);
  if (!last) return null;
  const out: Record<string, number> = {};
  for (const l of last.layers) if (l.deadChannels !== undefined) out[l.layer] = l.deadChannels;
  return Object.keys(out).length ? out : null;
}

/** Dead channels per ReLU layer at each run's last statistics, as a table (empty when no run has ReLUs). */
function deadTable(runs: ArmRun[]): string[] {
  const rows = runs
    .map((r) => ({ r, last: r.layerStats.at(-1) }))
    .filter(({ last }) => last?.layers.some((l) => l.deadChannels !== undefined));
  if (!rows.length) return [];
  const layers = rows[0].last!.layers.filter((l) => l.deadChannels !== undefined).map((l) => l.layer);
  return [
    '## Dead ReLU channels at the end (zero on every probe image)',
    '',
    `| arm | seed | step | ${layers.join(' | ')} |`,
    `|---|---|---|${layers.map(() => '---').join('|')}|`,
    ...rows.map(({ r, last }) => {
      const cells = layers.map((name) => {
        const l = last!.layers.find((x) => x.layer === name);
        return l?.deadChannels === undefined ? '–' : `${l.deadChannels}/${l.channels}`;
      });
      return `| ${r.arm.label}${r.diverged ? ' (diverged)' : ''} | ${r.seed} | ${last!.step} | ${cells.join(' | ')} |`;
    }),
    '',
  ];
}

/** Layers with a gradient norm in the run's statistics (the trainable ones), in network order. */
function trainableLayers(run: ArmRun): string[] {
  return run.layerStats[0]?.layers.filter((l) => l.gradientNorm !== undefined).map((l) => l.layer) ?? [];
}

/**
 * The blog's vanishing-gradient argument, measured: per arm (seed 1), each trainable layer's gradient norm
 * and its saturated (tanh/sigmoid) or dead (ReLU) share over the first epoch's statistics records.
 */
function firstEpochTable(byArm: Map<string, ArmRun[]>): string[] {
  const runs = [...byArm.values()].map((rs) => rs[0]).filter((r) => r.layerStats.some((s) => s.epoch === 1));
  if (!runs.length) return [];
  const rows: string[] = [];
  for (const r of runs) {
    const records = r.layerStats.filter((s) => s.epoch === 1);
    const first = records[0];
    const last = records.at(-1)!;
    for (const name of trainableLayers(r)) {
      const at = (rec: typeof first) => rec.layers.find((l) => l.layer === name);
      const norms = records.map((rec) => at(rec)?.gradientNorm).filter((v): v is number => v !== undefined);
      const end = at(last);
      const state =
        end?.saturatedFraction !== undefined
          ? `${(end.saturatedFraction * 100).toFixed(1)}% saturated`
          : end?.deadChannels !== undefined
            ? `${end.deadChannels}/${end.channels} channels dead`
            : '–';
      rows.push(`| ${r.arm.label} | ${name} | ${fmt(at(first)?.gradientNorm, 4)} | ${fmt(norms.reduce((a, b) => a + b, 0) / norms.length, 4)} | ${fmt(end?.gradientNorm, 4)} | ${state} |`);
    }
  }
  const steps = runs[0].layerStats.filter((s) => s.epoch === 1);
  return [
    '## Gradients and saturation over the first epoch',
    '',
    `Seed 1 of each arm, from the statistics recorded every ${steps.length > 1 ? steps[1].step - steps[0].step : '–'} steps on a fixed probe batch of ${steps[0]?.probeSize ?? '–'} test images (run folders' layer-stats.jsonl). Gradient norm: the L2 norm of the layer's weight gradients on that step's batch. Saturated: |tanh| > 0.97, or a sigmoid outside [0.03, 0.97], over every unit and probe image.`,
    '',
    '| arm | layer | gradient norm, first record | mean over epoch 1 | at the end of epoch 1 | end of epoch 1 |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

function groupByArm(runs: ArmRun[]): Map<string, ArmRun[]> {
  const m = new Map<string, ArmRun[]>();
  for (const r of runs) m.set(r.arm.id, [...(m.get(r.arm.id) ?? []), r]);
  return m;
}

/** Mean over seeds of each epoch's value (epochs every seed reached). */
function meanCurve(runs: ArmRun[], pick: (e: ArmRun['epochs'][number]) => number | null): number[] {
  const len = Math.min(...runs.map((r) => r.epochs.length));
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const vs = runs.map((r) => pick(r.epochs[i])).filter((v): v is number => v !== null);
    if (vs.length === runs.length) out.push(vs.reduce((a, b) => a + b, 0) / vs.length);
  }
  return out;
}

function plotsFor(recipe: Recipe, byArm: Map<string, ArmRun[]>): Plot[] {
  const arms = [...byArm.values()];
  const series = (pick: (e: ArmRun['epochs'][number]) => number | null): Series[] =>
    arms
      .map((runs) => {
        const ys = meanCurve(runs.filter(trained), pick);
        return { name: runs[0].arm.label, xs: ys.map((_, i) => i + 1), ys };
      })
      .filter((s) => s.ys.length > 0);
  const seedNote = arms[0]?.length > 1 ? ` (mean of ${arms[0].length} seeds)` : '';
  const plots: Plot[] = [
    { file: 'train-loss', title: `${recipe.title}: training loss${seedNote}`, xLabel: 'epoch', yLabel: 'train loss', series: series((e) => e.loss), logY: true },
    { file: 'test-accuracy', title: `${recipe.title}: test accuracy${seedNote}`, xLabel: 'epoch', yLabel: 'test accuracy', series: series((e) => e.testAccuracy) },
  ];
  if (recipe.name === 'activation') {
    const grads: Series[] = arms
      .map((runs) => ({ r: runs[0], layer: trainableLayers(runs[0])[0] }))
      .filter(({ layer }) => layer !== undefined)
      .map(({ r, layer }) => {
        const points = r.layerStats.filter((s) => s.epoch === 1).map((s) => ({ x: s.step, y: s.layers.find((l) => l.layer === layer)?.gradientNorm ?? NaN }));
        return { name: r.arm.label, xs: points.map((p) => p.x), ys: points.map((p) => p.y) };
      })
      .filter((s) => s.ys.length > 0);
    if (grads.length) {
      plots.push({ file: 'first-layer-gradient', title: 'Gradient norm of the first conv layer, epoch 1 (seed 1)', xLabel: 'step', yLabel: 'gradient norm', series: grads, logY: true });
    }
  }
  if (recipe.name === 'dead-relu') {
    const dead: Series[] = arms.map((runs) => {
      const r = runs[0];
      const points = r.layerStats.map((s) => ({ x: s.step, y: s.layers.reduce((a, l) => a + (l.deadChannels ?? 0), 0) }));
      return { name: `${r.arm.label}${r.diverged ? ' (diverged)' : ''}`, xs: points.map((p) => p.x), ys: points.map((p) => p.y) };
    });
    plots.push({ file: 'dead-channels', title: 'Dead ReLU channels on the probe set (seed 1)', xLabel: 'step', yLabel: 'dead channels', series: dead });
  }
  return plots;
}

function publishedRows(recipe: Recipe, byArm: Map<string, ArmRun[]>): string[] {
  if (recipe.published.length === 0) return [];
  const ours = (p: Published): Spread => {
    const runs = (byArm.get(p.arm) ?? []).filter(trained);
    return spread(runs.map((r) => (p.metric === 'finalTrainLoss' ? r.epochs.at(-1)?.loss : r.epochs.at(-1)?.testAccuracy)).filter((v): v is number => typeof v === 'number'));
  };
  return [
    '## Published numbers beside ours',
    '',
    '| arm | metric | published | ours | ours − published | source |',
    '|---|---|---|---|---|---|',
    ...recipe.published.map((p) => {
      const s = ours(p);
      const diff = s.n ? s.mean - p.value : NaN;
      const sign = diff > 0 ? '+' : '';
      return `| ${p.arm} | ${p.metric === 'finalTrainLoss' ? 'final train loss' : 'test accuracy'} | ${p.value} | ${fmtSpread(s)} | ${Number.isNaN(diff) ? '–' : sign + diff.toFixed(4)} | ${p.source} |`;
    }),
    '',
  ];
}

function armTable(recipe: Recipe, byArm: Map<string, ArmRun[]>): string[] {
  const threshold = recipe.lossThreshold;
  const rows = [...byArm.values()].map((runs) => {
    const ok = runs.filter(trained);
    const loss = spread(ok.map((r) => r.epochs.at(-1)?.loss).filter((v): v is number => typeof v === 'number'));
    const acc = spread(ok.map((r) => r.epochs.at(-1)?.testAccuracy).filter((v): v is number => typeof v === 'number'));
    const reach = threshold === null ? [] : ok.map((r) => epochsToReach(r.epochs.map((e) => e.loss), threshold));
    const ips = spread(ok.flatMap((r) => r.epochs.map((e) => e.imagesPerSecond)));
    const div = runs.filter((r) => r.diverged);
    const stuck = runs.filter((r) => r.stalled);
    const divText = [
      div.length ? `diverged in ${div.length}/${runs.length} (${div.map((r) => `step ${r.diverged!.step}`).join(', ')})` : '',
      stuck.length ? `stalled in ${stuck.length}/${runs.length} (${stuck.map((r) => `seed ${r.seed} from epoch ${r.stalled!.epoch}`).join(', ')}; left out of the figures)` : '',
    ].filter(Boolean).join('; ');
    return { runs, loss, acc, reach, ips, divText };
  });
  const head = ['arm', 'epochs', 'final train loss', 'test accuracy', ...(threshold !== null ? [`epochs to loss ≤ ${threshold}`] : []), 'images/s', 'note'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const reach = r.reach.length ? r.reach.map((v) => v ?? 'not reached').join(', ') : '';
    lines.push(
      `| ${r.runs[0].arm.label} | ${Math.max(...r.runs.map((x) => x.epochs.length))} | ${fmtSpread(r.loss)} | ${fmtSpread(r.acc)} | ${threshold !== null ? `${reach} | ` : ''}${fmt(r.ips.mean, 0)} | ${r.divText} |`,
    );
  }
  const out = ['## Results', '', ...lines, ''];
  // Each arm against the first, judged against the spread across seeds.
  if (rows.length > 1) {
    const base = rows[0];
    out.push(`### Against "${base.runs[0].arm.label}"`, '');
    for (const r of rows.slice(1)) {
      const v = compare(base.acc, r.acc);
      const words = v === 'single seed' ? 'one seed only: no spread to judge the difference by (run with --seeds 3 or more)' : v === 'inconclusive' ? 'inconclusive at this scale (within the spread across seeds)' : `test accuracy ${v} beyond the spread across seeds`;
      const diff = r.acc.n && base.acc.n ? r.acc.mean - base.acc.mean : NaN;
      out.push(`- ${r.runs[0].arm.label}: test accuracy ${Number.isNaN(diff) ? '–' : (diff >= 0 ? '+' : '') + (diff * 100).toFixed(2) + ' points'}; ${words}.`);
    }
    if (threshold !== null) {
      const med = (xs: (number | null)[]) => {
        const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
        return v.length ? v[Math.floor(v.length / 2)] : null;
      };
      const reached = rows.map((r) => ({ label: r.runs[0].arm.label, epochs: med(r.reach) }));
      const fastest = reached.filter((x) => x.epochs !== null).sort((a, b) => a.epochs! - b.epochs!)[0];
      if (fastest) {
        out.push('', `Epochs to reach a training loss of ${threshold} (median over seeds), and the ratio to the fastest (${fastest.label}):`, '');
        for (const x of reached) out.push(`- ${x.label}: ${x.epochs ?? 'not reached'}${x.epochs ? ` (${(x.epochs / fastest.epochs!).toFixed(2)}x)` : ''}`);
      }
    }
    out.push('');
  }
  return out;
}

export async function writeReport(dir: string, recipe: Recipe, runs: ArmRun[], ctx: ReportContext, notes: string[] = []): Promise<MetricsFile> {
  await mkdir(dir, { recursive: true });
  const byArm = groupByArm(runs);
  const plots = plotsFor(recipe, byArm);
  for (const p of plots) {
    const svg = lineChartSvg({ series: p.series, xLabel: p.xLabel, yLabel: p.yLabel, title: p.title, logY: p.logY, yDomain: p.yDomain, width: 720, height: 420 });
    await writeFile(path.join(dir, `${p.file}.svg`), svg);
    await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toFile(path.join(dir, `${p.file}.png`));
  }
  const metrics: MetricsFile = {
    experiment: recipe.name,
    version: recipe.version,
    context: ctx,
    arms: [...byArm.values()].map((armRuns) => ({
      arm: armRuns[0].arm.id,
      label: armRuns[0].arm.label,
      seeds: armRuns.map((r) => ({
        seed: r.seed,
        runDir: path.relative(dir, r.runDir),
        trainLoss: r.epochs.map((e) => e.loss),
        testAccuracy: r.epochs.at(-1)?.testAccuracy ?? null,
        diverged: r.diverged,
        stalled: r.stalled,
        deadChannels: lastDeadChannels(r),
      })),
    })),
    plots: plots.map((p) => ({ file: `${p.file}.svg`, series: p.series.map((s) => ({ name: s.name, xs: Array.from(s.xs), ys: Array.from(s.ys) })) })),
  };
  await writeFile(path.join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');

  const cpu = os.cpus();
  const md = [
    `# ${recipe.title}`,
    '',
    '```',
    ctx.command,
    '```',
    '',
    `- Recipe: \`${recipe.name}\` v${recipe.version}. ${recipe.description}`,
    `- Training examples per run: ${ctx.trainExamples.toLocaleString('en-US')}; test examples: ${ctx.testExamples?.toLocaleString('en-US') ?? '–'}; seeds: ${ctx.seeds}.`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}.`,
    `- Backend: ${ctx.backend}. Training time of the runs (epoch wall times, evaluation included): ${formatDuration(trainingSeconds(runs))}; wall time of this invocation: ${formatDuration(ctx.wallSeconds)} (runs already in the store are reused).`,
    '',
    `**Question.** ${recipe.question}`,
    '',
    ...armTable(recipe, byArm),
    ...publishedRows(recipe, byArm),
    ...(recipe.name === 'dead-relu' ? deadTable(runs) : []),
    ...(recipe.name === 'activation' ? firstEpochTable(byArm) : []),
    ...(notes.length ? ['## Notes', '', ...notes, ''] : []),
    '## Plots',
    '',
    ...plots.map((p) => `![${p.title}](${p.file}.svg)`),
    '',
    `Numbers per epoch and seed: [metrics.json](metrics.json). Run folders: ${[...new Set(runs.map((r) => '`' + path.relative(dir, r.runDir) + '`'))].join(', ')}.`,
    '',
  ];
  await writeFile(path.join(dir, 'report.md'), md.join('\n'));
  return metrics;
}

/** Seconds the runs' epochs took, each run counted once (arms may share a run). */
function trainingSeconds(runs: ArmRun[]): number {
  const byDir = new Map(runs.map((r) => [r.runDir, r.epochs.reduce((a, e) => a + e.seconds, 0)]));
  return [...byDir.values()].reduce((a, b) => a + b, 0);
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}
