import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { choiceFlag, intFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { StatusLine } from '../progress';
import { initBackend } from '../../engine/backend';
import { parseOverrides } from '../../engine/models';
import { resolveModel } from '../../engine/inspect/model-ref';
import { writePng } from '../../engine/inspect/render/png';
import { openModelSplit } from '../../engine/handlers/insight-data';
import { InsightCache } from '../../engine/insight/cache';
import { patchGrid } from '../../engine/insight/render';
import { cachedTopPatches, patchPixels } from '../../engine/insight/top-patches';

export const HELP = `usage: convscope top-patches --model M --layer L --out DIR [options]

For every channel of a conv or pooling layer, the k dataset examples whose strongest unit in that
channel is the highest (Zeiler and Fergus), with that unit's receptive field as an image patch:
DIR/<layer>/channel-NNN.png (a grid, best first) and DIR/top-patches.json. Results are cached per model
weights, layer and split ($CONVSCOPE_CACHE_DIR/insight).
  --dataset D      mnist, fashion-mnist or folder:/path (default: the run's own, else the one the model fits)
  --split S        test (default) or train
  --k N            patches per channel (default 9)
  --limit N        the first N examples of the split only
  --batch N        examples per forward pass (default 256)
  --set key=value  zoo models: an option, repeatable
  --json           print the JSON (layer, field, channels: [[{value, index, label, row, col, window}]])
  --backend B      auto (default), gpu, webgpu, node, wasm or cpu
Progress goes to stderr.`;

const OPTIONS = {
  model: { type: 'string' },
  layer: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  k: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a run folder, a zoo id or a model.json)');
  if (!values.layer) throw new UsageError('--layer is required (a conv or pooling layer)');
  if (!values.out) throw new UsageError('--out DIR is required (where the PNG grids and JSON go)');
  const split = choiceFlag('split', values.split, ['test', 'train'] as const, 'test');
  const k = intFlag('k', values.k, 9);
  const limit = values.limit === undefined ? undefined : intFlag('limit', values.limit, 1);
  const batchSize = intFlag('batch', values.batch, 256);
  await initBackend(values.backend);
  const m = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
  try {
    const data = await openModelSplit(m, values.dataset, split);
    const status = new StatusLine();
    const t0 = performance.now();
    const result = await cachedTopPatches(m.model, values.layer, data.served, { cache: new InsightCache(), dataset: data.dataset, split, preprocess: m.preprocessor }, {
      k,
      limit,
      batchSize,
      onProgress: (done, total) => status.update(`top patches of ${values.layer}: ${done}/${total} examples`, done / total),
    });
    const seconds = (performance.now() - t0) / 1000;
    status.line(`${result.cached ? 'read from the cache' : `${result.examples} examples`} in ${seconds.toFixed(2)} s`);
    const pixels = await patchPixels(result, data.stored);
    const dir = path.join(values.out, values.layer.replace(/[^A-Za-z0-9_.-]/g, '_'));
    const cell = Math.max(32, Math.max(result.field.y.size, result.field.x.size) * Math.max(1, Math.floor(64 / result.field.y.size)));
    const files: string[] = [];
    for (let c = 0; c < result.channels; c++) {
      files.push(await writePng(path.join(dir, `channel-${String(c).padStart(3, '0')}.png`), patchGrid(pixels[c], Math.min(cell, 128))));
    }
    const json = {
      model: values.model,
      layer: result.layer,
      dataset: data.dataset,
      split,
      examples: result.examples,
      k: result.k,
      seconds,
      cached: result.cached,
      field: result.field,
      classNames: data.classNames,
      channels: result.patches,
      files,
    };
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, 'top-patches.json'), JSON.stringify(json, null, 2) + '\n');
    if (values.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    else {
      for (let c = 0; c < result.channels; c++) {
        const best = result.patches[c][0];
        process.stdout.write(`channel ${c}: top ${best ? `${best.value.toFixed(4)} (example ${best.index}, ${data.classNames[best.label]})` : 'none'}\n`);
      }
      process.stdout.write(`receptive field ${result.field.y.size}x${result.field.x.size}, step ${result.field.y.jump}; PNG grids under ${path.resolve(dir)}\n`);
    }
    return 0;
  } finally {
    m.model.dispose();
  }
}
