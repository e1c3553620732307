// How often a test digit's nearest training neighbours (last hidden layer, Euclidean) share its class,
// for the bundled LeNet-5 run: `npx tsx bench/insight-neighbours.ts [tests=100] [k=6]`.
import path from 'node:path';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';
import { resolveModel } from '../src-main/engine/inspect';
import { openModelSplit, splitFeatures } from '../src-main/engine/handlers/insight-data';
import { featuresOf, nearest } from '../src-main/engine/insight/features';
import { resourcesDir } from '../src-main/engine/paths';

const tests = Number(process.argv[2] ?? 100);
const k = Number(process.argv[3] ?? 6);
await initBackend();
const m = await resolveModel(path.join(resourcesDir(), 'pretrained', 'lenet5-mnist'));
const train = await openModelSplit(m, 'mnist', 'train');
const test = await openModelSplit(m, 'mnist', 'test');
const t0 = performance.now();
const set = await splitFeatures(m, train, undefined);
const featureSeconds = (performance.now() - t0) / 1000;
const batch = await test.served.batch(Array.from({ length: tests }, (_, i) => i));
const [f] = featuresOf(m.model, set.layer, batch.x);
const queries = (await f.data()) as Float32Array;
const labels = await batch.labels.data();
tf.dispose([f, batch.x, batch.labels]);
let same = 0;
let searchMs = 0;
for (let i = 0; i < tests; i++) {
  const t = performance.now();
  const found = nearest(set.vectors, set.dim, queries.subarray(i * set.dim, (i + 1) * set.dim), k);
  searchMs += performance.now() - t;
  same += found.filter((n) => set.labels[n.index] === labels[i]).length;
}
console.log(JSON.stringify({ layer: set.layer, trainVectors: set.count, cached: set.cached, featureSeconds, tests, k, sameClassShare: same / (tests * k), meanSearchMs: searchMs / tests }));
m.model.dispose();
