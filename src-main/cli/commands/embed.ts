import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { choiceFlag, intFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { StatusLine } from '../progress';
import { initBackend } from '../../engine/backend';
import { parseOverrides } from '../../engine/models';
import { resolveModel } from '../../engine/inspect/model-ref';
import { openModelSplit, splitFeatures } from '../../engine/handlers/insight-data';
import { mapLayout } from '../../engine/insight/map-layout';
import { embeddingSvg } from '../../../src-renderer/src/charts/embedding-map';

export const HELP = `usage: convscope embed --model M --out DIR [options]

A 2-D map of a dataset split: every example's feature vector at a layer (default the last hidden one)
projected on its two principal components, or laid out by UMAP. Writes DIR/map-label.svg (coloured by
class), DIR/map-correctness.svg (right / wrong predictions) and DIR/embedding.json (coordinates, labels,
predictions, and for PCA the explained variance).
  --method M       pca (default: linear, instant) or umap (seeded; ~25 s for 10,000 points)
  --seed N         UMAP's seed (default 1)
  --dataset D      mnist, fashion-mnist or folder:/path (default: the run's own, else the one the model fits)
  --split S        test (default) or train
  --layer L        default: the last hidden layer (LeNet-5 fc2, AlexNet fc7)
  --limit N        the first N examples of the split only
  --set key=value  zoo models: an option, repeatable
  --backend B      auto (default), gpu, webgpu, node, wasm or cpu`;

const OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  layer: { type: 'string' },
  limit: { type: 'string' },
  method: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  backend: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a run folder, a zoo id or a model.json)');
  if (!values.out) throw new UsageError('--out DIR is required (where the maps and coordinates go)');
  const split = choiceFlag('split', values.split, ['test', 'train'] as const, 'test');
  const limit = values.limit === undefined ? undefined : intFlag('limit', values.limit, 1);
  const method = choiceFlag('method', values.method, ['pca', 'umap'] as const, 'pca');
  const seed = values.seed === undefined ? 1 : intFlag('seed', values.seed, 0);
  await initBackend(values.backend);
  const m = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
  try {
    const data = await openModelSplit(m, values.dataset, split);
    const status = new StatusLine();
    const t0 = performance.now();
    const set = await splitFeatures(m, data, values.layer, { limit, onProgress: (done, total) => status.update(`feature vectors: ${done}/${total}`, done / total) });
    const t1 = performance.now();
    const map = await mapLayout(set.vectors, set.dim, method, { seed, onProgress: (done, total) => status.update(`UMAP: epoch ${done}/${total}`, done / total) });
    const t2 = performance.now();
    status.line(`${set.count} ${set.layer} vectors (${set.dim}-d) in ${((t1 - t0) / 1000).toFixed(2)} s${set.cached ? ' (cache)' : ''}; ${method === 'umap' ? 'UMAP' : 'PCA'} in ${((t2 - t1) / 1000).toFixed(2)} s`);
    const points = { coords: map.coords, labels: set.labels, predicted: set.predicted, classNames: data.classNames };
    const title = `${data.dataset} ${split}, ${set.layer}, ${method === 'umap' ? 'UMAP' : 'PCA'}`;
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, 'map-label.svg'), embeddingSvg(points, { colouring: 'label', title: `${title}, by class` }));
    await writeFile(path.join(values.out, 'map-correctness.svg'), embeddingSvg(points, { colouring: 'correctness', title: `${title}, right and wrong` }));
    const json = {
      model: values.model,
      dataset: data.dataset,
      split,
      layer: set.layer,
      method,
      ...(method === 'pca' ? { explained: map.explained } : { seed }),
      classNames: data.classNames,
      points: Array.from({ length: set.count }, (_, i) => ({ index: i, x: map.coords[i * 2], y: map.coords[i * 2 + 1], label: set.labels[i], predicted: set.predicted[i] })),
    };
    await writeFile(path.join(values.out, 'embedding.json'), JSON.stringify(json) + '\n');
    const accuracy = set.predicted.filter((p, i) => p === set.labels[i]).length / Math.max(1, set.count);
    const axes = method === 'pca' ? `the two axes explain ${(100 * (map.explained[0] + map.explained[1])).toFixed(1)}% of the variance` : `UMAP, seed ${seed}`;
    process.stdout.write(`${set.count} points; ${axes}; accuracy ${(100 * accuracy).toFixed(2)}%\nmaps and coordinates under ${path.resolve(values.out)}\n`);
    return 0;
  } finally {
    m.model.dispose();
  }
}
