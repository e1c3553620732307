import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { intFlag, numberFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { StatusLine } from '../progress';
import { initBackend } from '../../engine/backend';
import { parseOverrides } from '../../engine/models';
import { resolveModel } from '../../engine/inspect/model-ref';
import { pixelsToImage } from '../../engine/inspect/render/activations';
import { writePng } from '../../engine/inspect/render/png';
import { enlargeTo } from '../../engine/inspect/render/write-inspection';
import { visualise, type VisObjective } from '../../engine/insight/feature-vis';

export const HELP = `usage: convscope visualize --model M (--layer L --channel C | --class K) --out DIR [options]

Feature visualisation by optimisation (Lucid's recipe): the image that maximises a channel's mean
activation, or a class logit, found by gradient ascent on a Fourier-space, colour-decorrelated image
with random jitter, scale and rotation each step. Writes DIR/<layer>-channel-C.png (or class-K.png)
and a JSON line with the objective's history.
  --layer L        the layer (with --channel; without --channel and --class: every channel of L, a PNG each)
  --channel C      the channel
  --class K        a class logit instead
  --steps N        optimisation steps (default 256)
  --seed S         random seed (default 0): the same seed gives the same image
  --lr R           Adam's learning rate (default 0.05)
  --tv W           total-variation penalty weight (default 0)
  --l2 W           L2 penalty weight on the distance from grey (default 0)
  --no-transforms  no random jitter, scale and rotation
  --set key=value  zoo models: an option, repeatable
  --json           print {objective, steps, seed, seconds, final, file} per image
  --backend B      auto (default), gpu, webgpu, node, wasm or cpu`;

const OPTIONS = {
  model: { type: 'string' },
  layer: { type: 'string' },
  channel: { type: 'string' },
  class: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  tv: { type: 'string' },
  l2: { type: 'string' },
  'no-transforms': { type: 'boolean' },
  out: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a run folder, a zoo id or a model.json)');
  if (!values.out) throw new UsageError('--out DIR is required (where the images go)');
  if (values.class !== undefined && (values.layer !== undefined || values.channel !== undefined)) throw new UsageError('--class K stands alone: no --layer or --channel with it');
  if (values.class === undefined && values.layer === undefined) throw new UsageError('name --layer L (with --channel C) or --class K');
  const steps = intFlag('steps', values.steps, 256);
  const seed = intFlag('seed', values.seed, 0, 0);
  const options = {
    steps,
    seed,
    learningRate: numberFlag('lr', values.lr, 0.05),
    tv: numberFlag('tv', values.tv, 0),
    l2: numberFlag('l2', values.l2, 0),
    transforms: !values['no-transforms'],
  };
  await initBackend(values.backend);
  const m = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
  try {
    let objectives: VisObjective[];
    if (values.class !== undefined) objectives = [{ kind: 'class', classIndex: intFlag('class', values.class, 0, 0) }];
    else if (values.channel !== undefined) objectives = [{ kind: 'channel', layer: values.layer!, channel: intFlag('channel', values.channel, 0, 0) }];
    else {
      const layer = m.model.getLayer(values.layer!);
      const channels = (layer.outputShape as number[]).at(-1) ?? 0;
      objectives = Array.from({ length: channels }, (_, channel) => ({ kind: 'channel', layer: values.layer!, channel }));
    }
    await mkdir(values.out, { recursive: true });
    const status = new StatusLine();
    for (const objective of objectives) {
      const what = objective.kind === 'class' ? `class ${objective.classIndex}` : `${objective.layer} channel ${objective.channel}`;
      const t0 = performance.now();
      const vis = await visualise(m.model, m.preprocessor, objective, { ...options, onProgress: (step, total, value) => status.update(`${what}: step ${step}/${total}, objective ${value.toFixed(4)}`, step / total) });
      const seconds = (performance.now() - t0) / 1000;
      const name = objective.kind === 'class' ? `class-${objective.classIndex}` : `${objective.layer.replace(/[^A-Za-z0-9_.-]/g, '_')}-channel-${objective.channel}`;
      const file = await writePng(path.join(values.out, `${name}.png`), enlargeTo(pixelsToImage(vis.pixels, vis.width, vis.height, vis.channels), 224));
      const record = { objective, steps, seed, size: [vis.height, vis.width, vis.channels], seconds, first: vis.history[0], final: vis.final, file, history: vis.history };
      await writeFile(path.join(values.out, `${name}.json`), JSON.stringify(record) + '\n');
      if (values.json) process.stdout.write(JSON.stringify({ ...record, history: undefined }) + '\n');
      else status.line(`${what}: objective ${vis.history[0].toFixed(4)} -> ${vis.final.toFixed(4)} in ${steps} steps, ${seconds.toFixed(1)} s; ${file}`);
    }
    return 0;
  } finally {
    m.model.dispose();
  }
}
