// One AlexNet training step (batch 32: forward, loss, every gradient) kernel by kernel (tf.profile).
//   npx tsx bench/profile-alexnet-train.ts [--threads 1] [--batch 32]
import { parseArgs } from 'node:util';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';
import { resolveModel } from '../src-main/engine/inspect/model-ref';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, batch: { type: 'string', default: '32' } } });
await initBackend('wasm', { threads: Number(values.threads) });
const { model } = await resolveModel('alexnet');
const batch = Number(values.batch);
const x = tf.randomUniform([batch, 227, 227, 3], -1, 1);
const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 1000), 'int32'), 1000);
const step = () => {
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
step();
const cpu = process.cpuUsage();
const t0 = performance.now();
const info = await tf.profile(step);
const used = process.cpuUsage(cpu);
const rows = new Map<string, { calls: number; ms: number }>();
for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) {
  const row = rows.get(k.name) ?? { calls: 0, ms: 0 };
  row.calls++;
  row.ms += Number(k.kernelTimeMs);
  rows.set(k.name, row);
}
const total = [...rows.values()].reduce((s, r) => s + r.ms, 0);
console.log(`wall ${(performance.now() - t0).toFixed(0)} ms, CPU ${((used.user + used.system) / 1000).toFixed(0)} ms, kernels ${total.toFixed(0)} ms (batch ${batch})`);
for (const [name, r] of [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  console.log(`${name.padEnd(28)} ${String(r.calls).padStart(4)} calls ${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`);
}
