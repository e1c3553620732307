import { choiceFlag, intFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { StatusLine } from '../progress';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { parseOverrides } from '../../engine/models';
import { resolveModel } from '../../engine/inspect/model-ref';
import { openModelSplit, splitFeatures } from '../../engine/handlers/insight-data';
import { featuresOf, nearest } from '../../engine/insight/features';

export const HELP = `usage: convscope neighbours --model M --image IMG [options]

The training examples nearest to an image in a layer's feature space (Euclidean distance; the AlexNet
paper's figure 4). The split's feature vectors are computed once and cached per model weights.
  --dataset D      mnist, fashion-mnist or folder:/path (default: the run's own, else the one the model fits)
  --split S        where to look: train (default) or test
  --layer L        default: the last hidden layer (LeNet-5 fc2, AlexNet fc7)
  --k N            neighbours (default 6)
  --limit N        the first N examples of the split only
  --set key=value  zoo models: an option, repeatable
  --json           {layer, predicted, neighbours:[{index, label, className, distance}], timings}
  --backend B      auto (default), gpu, webgpu, node, wasm or cpu`;

const OPTIONS = {
  model: { type: 'string' },
  image: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  layer: { type: 'string' },
  k: { type: 'string' },
  limit: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a run folder, a zoo id or a model.json)');
  if (!values.image) throw new UsageError('--image IMG is required');
  const split = choiceFlag('split', values.split, ['train', 'test'] as const, 'train');
  const k = intFlag('k', values.k, 6);
  const limit = values.limit === undefined ? undefined : intFlag('limit', values.limit, 1);
  await initBackend(values.backend);
  const m = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
  try {
    const data = await openModelSplit(m, values.dataset, split);
    const status = new StatusLine();
    const t0 = performance.now();
    const set = await splitFeatures(m, data, values.layer, { limit, onProgress: (done, total) => status.update(`feature vectors: ${done}/${total}`, done / total) });
    const featuresSeconds = (performance.now() - t0) / 1000;
    status.line(`${set.count} ${set.layer} vectors (${set.dim}-d) ${set.cached ? 'read from the cache' : 'computed'} in ${featuresSeconds.toFixed(2)} s`);
    const t1 = performance.now();
    const prepared = await m.prepare.prepare(values.image, { name: values.image });
    const [f, p] = featuresOf(m.model, set.layer, prepared.x);
    const [query, predicted] = await Promise.all([f.data(), p.data()]);
    tf.dispose([f, p, prepared.x]);
    const t2 = performance.now();
    const found = nearest(set.vectors, set.dim, query, k);
    const t3 = performance.now();
    const neighbours = found.map((n) => ({ index: n.index, label: set.labels[n.index], className: data.classNames[set.labels[n.index]], distance: n.distance }));
    const timings = { featuresSeconds, queryForwardMs: t2 - t1, searchMs: t3 - t2 };
    if (values.json) {
      const json = { model: values.model, image: values.image, dataset: data.dataset, split, layer: set.layer, dim: set.dim, examples: set.count, predicted: { index: predicted[0], className: data.classNames[predicted[0]] }, neighbours, timings };
      process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    } else {
      process.stdout.write(`${values.image}: predicted ${data.classNames[predicted[0]]}; nearest ${data.dataset} ${split} examples in ${set.layer}:\n`);
      for (const n of neighbours) process.stdout.write(`  #${n.index}  ${n.className}  distance ${n.distance.toFixed(4)}\n`);
      process.stdout.write(`query: forward ${timings.queryForwardMs.toFixed(1)} ms, search ${timings.searchMs.toFixed(1)} ms over ${set.count} vectors\n`);
    }
    return 0;
  } finally {
    m.model.dispose();
  }
}
