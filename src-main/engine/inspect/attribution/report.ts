// The attribution-eval report: report.md (command, data, the table, the verdict), the mean deletion and
// insertion curves as SVG and PNG (drawn by the renderer's chart code), and metrics.json.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { lineChartSvg } from '../../../../src-renderer/src/charts/line-chart';
import { RANDOM_REFERENCE, type FaithfulnessReport, type MethodFaithfulness } from './evaluate';

export interface AttributionReportContext {
  command: string;
  model: string;
  dataset: string;
  backend: string;
  wallSeconds: number;
}

const f = (v: number) => v.toFixed(4);

/** The method with the lowest mean deletion AUC and the one with the highest insertion AUC (the random reference excluded). */
export function mostFaithful(report: FaithfulnessReport): { deletion: MethodFaithfulness; insertion: MethodFaithfulness } {
  const real = report.methods.filter((m) => m.method !== RANDOM_REFERENCE);
  const deletion = [...real].sort((a, b) => a.deletionAuc.mean - b.deletionAuc.mean)[0];
  const insertion = [...real].sort((a, b) => b.insertionAuc.mean - a.insertionAuc.mean)[0];
  return { deletion, insertion };
}

export function reportMarkdown(report: FaithfulnessReport, ctx: AttributionReportContext): string {
  const best = mostFaithful(report);
  const se = (s: { sd: number }) => s.sd / Math.sqrt(report.images);
  const rows = report.methods.map(
    (m) =>
      `| ${m.method === RANDOM_REFERENCE ? 'random (reference)' : m.method} | ${m.layer ?? '–'} | ${f(m.deletionAuc.mean)} ± ${f(se(m.deletionAuc))} | ${f(m.insertionAuc.mean)} ± ${f(se(m.insertionAuc))} | ${f(m.insertionAuc.mean - m.deletionAuc.mean)} | ${m.msPerMap.toFixed(1)} |`,
  );
  const same = best.deletion.method === best.insertion.method;
  return [
    `# Attribution faithfulness: ${ctx.model} on ${ctx.dataset}`,
    '',
    '```',
    ctx.command,
    '```',
    '',
    `${report.images} images (the first of the held-out split), top-1 accuracy ${(100 * report.accuracy).toFixed(1)}%; each image's top predicted class is explained. Backend ${ctx.backend}, wall time ${ctx.wallSeconds.toFixed(0)} s.`,
    '',
    `Deletion (Petsiuk et al. 2018): pixels set to ${report.fill === 'zero' ? '0 in the model\'s input space' : 'the image\'s per-channel mean'} in order of decreasing attribution, ${report.stepSize} of ${report.pixels} pixels (all channels) per step; lower area is more faithful. Insertion: the same order into a Gaussian-blurred copy (sigma ${report.blurSigma.toFixed(2)} px); higher area is more faithful. Areas are of the softmax probability of the explained class over the fraction of pixels changed, mean ± standard error over the images. "random" is a seeded random map: the floor.`,
    '',
    '| method | layer | deletion AUC (lower better) | insertion AUC (higher better) | insertion − deletion | ms per map |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    same
      ? `Most faithful here: **${best.deletion.method}**, by both measures (deletion ${f(best.deletion.deletionAuc.mean)}, insertion ${f(best.insertion.insertionAuc.mean)}).`
      : `Most faithful by deletion: **${best.deletion.method}** (${f(best.deletion.deletionAuc.mean)}); by insertion: **${best.insertion.method}** (${f(best.insertion.insertionAuc.mean)}).`,
    '',
    '![deletion curves](deletion.svg) ![insertion curves](insertion.svg)',
    '',
  ].join('\n');
}

export async function writeAttributionReport(dir: string, report: FaithfulnessReport, ctx: AttributionReportContext): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const kind of ['deletion', 'insertion'] as const) {
    const svg = lineChartSvg({
      series: report.methods.map((m) => ({ name: m.method, xs: report.xs, ys: m[kind], dashed: m.method === RANDOM_REFERENCE })),
      xLabel: `fraction of pixels ${kind === 'deletion' ? 'deleted' : 'inserted'}`,
      yLabel: 'probability of the explained class',
      title: `${kind === 'deletion' ? 'Deletion' : 'Insertion'}: ${ctx.model}, ${report.images} images of ${ctx.dataset}`,
      yDomain: [0, 1],
      width: 720,
      height: 420,
    });
    const svgFile = path.join(dir, `${kind}.svg`);
    await writeFile(svgFile, svg);
    await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toFile(path.join(dir, `${kind}.png`));
    files.push(svgFile, path.join(dir, `${kind}.png`));
  }
  const md = path.join(dir, 'report.md');
  await writeFile(md, reportMarkdown(report, ctx));
  const json = path.join(dir, 'metrics.json');
  await writeFile(json, JSON.stringify({ context: ctx, ...report }, null, 1) + '\n');
  return [md, json, ...files];
}
