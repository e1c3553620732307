import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { parseFlags } from '../args';
import { UsageError } from '../errors';
import { HISTOGRAM_FILE, HISTOGRAM_TENSORS, readHistograms, type Histogram } from '../../engine/train/histograms';
import { isRunFolder } from '../../engine/inspect/model-ref';
import { distributionSvg, overlaySvg, percentile } from '../../../src-renderer/src/charts/distribution-chart';

export const HELP = `usage: convscope histograms --run DIR --layer NAME [--out DIR]

A layer's weight, activation (on the probe batch) and gradient distributions over a run's training, from
its histograms.jsonl: percentile bands over the steps and the first, middle and last steps overlaid.
  --run DIR     a run folder
  --layer NAME  a trainable layer (without it: the layers recorded)
  --out DIR     write <layer>-<tensor>.svg/.png (bands) and <layer>-<tensor>-overlay.svg/.png`;

const OPTIONS = { run: { type: 'string' }, layer: { type: 'string' }, out: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.run) throw new UsageError('--run is required (a run folder)');
  if (!isRunFolder(values.run)) throw new UsageError(`${values.run} is not a run folder (no config.json)`);
  const records = readHistograms(path.join(values.run, HISTOGRAM_FILE));
  if (!records || records.every((r) => r.layers.length === 0)) throw new UsageError(`${values.run} has no histograms (runs recorded before ConvScope kept them have none)`);
  const layers = [...new Set(records.flatMap((r) => r.layers.map((l) => l.layer)))];
  if (!values.layer) {
    process.stdout.write(`layers with histograms: ${layers.join(', ')}\n`);
    return 0;
  }
  const layer = values.layer;
  if (!layers.includes(layer)) throw new UsageError(`--layer: ${values.run} has no histograms of '${layer}' (layers: ${layers.join(', ')})`);
  const stopped = records.at(-1)?.stopped;
  const lines: string[] = [`${layer}: ${records.filter((r) => r.layers.length).length} steps${stopped ? ` (${stopped})` : ''}`];
  const files: string[] = [];
  for (const tensor of HISTOGRAM_TENSORS) {
    const series = records.flatMap((r) => {
      const h = r.layers.find((l) => l.layer === layer)?.[tensor];
      return h ? [{ step: r.step, h }] : [];
    });
    if (series.length === 0) continue;
    const last = series.at(-1)!;
    const p = (h: Histogram) => [0, 50, 100].map((q) => percentile(h, q).toPrecision(4)).join(' / ');
    lines.push(`  ${tensor.padEnd(11)} min / median / max at step ${series[0].step}: ${p(series[0].h)}; at step ${last.step}: ${p(last.h)}`);
    if (values.out === undefined) continue;
    await mkdir(values.out, { recursive: true });
    const picks = [...new Set([0, Math.floor((series.length - 1) / 2), series.length - 1])].map((i) => series[i]);
    const charts = {
      [`${layer}-${tensor}`]: distributionSvg({ steps: series.map((s) => s.step), histograms: series.map((s) => s.h), title: `${layer} ${tensor}`, width: 720, height: 360 }),
      [`${layer}-${tensor}-overlay`]: overlaySvg({ steps: picks.map((s) => s.step), histograms: picks.map((s) => s.h), title: `${layer} ${tensor}: chosen steps`, width: 720, height: 360 }),
    };
    for (const [name, svg] of Object.entries(charts)) {
      await writeFile(path.join(values.out, `${name}.svg`), svg);
      await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toFile(path.join(values.out, `${name}.png`));
      files.push(`${name}.svg`, `${name}.png`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (values.out !== undefined) process.stderr.write(`wrote ${files.length} files under ${path.resolve(values.out)}\n`);
  return 0;
}
