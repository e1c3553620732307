// One feature-visualisation step of AlexNet conv5 (227x227), kernel by kernel (tf.profile), plus the
// wall and CPU time of plain steps. Where the time of `convscope visualize` goes.
//   npx tsx bench/profile-vis.ts [--backend wasm] [--threads 1] [--steps 4] [--profiled 2]
import { parseArgs } from 'node:util';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';
import { resolveModel } from '../src-main/engine/inspect/model-ref';
import { visualise } from '../src-main/engine/insight/feature-vis';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, threads: { type: 'string' }, steps: { type: 'string', default: '4' }, profiled: { type: 'string', default: '2' }, layer: { type: 'string', default: 'conv5' } } });
await initBackend(values.backend, values.threads ? { threads: Number(values.threads) } : {});
const m = await resolveModel('alexnet');
const objective = { kind: 'channel' as const, layer: values.layer!, channel: 0 };
await visualise(m.model, m.preprocessor, objective, { steps: 1 }); // warm-up

const steps = Number(values.steps);
const cpu = process.cpuUsage();
const t0 = performance.now();
await visualise(m.model, m.preprocessor, objective, { steps });
const used = process.cpuUsage(cpu);
const wallMs = (performance.now() - t0) / steps;
const cpuMs = (used.user + used.system) / 1000 / steps;

const profiled = Number(values.profiled);
const rows = new Map<string, { calls: number; ms: number }>();
const info = await tf.profile(async () => {
  await visualise(m.model, m.preprocessor, objective, { steps: profiled });
});
for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) {
  const row = rows.get(k.name) ?? { calls: 0, ms: 0 };
  row.calls++;
  row.ms += Number(k.kernelTimeMs);
  rows.set(k.name, row);
}
const total = [...rows.values()].reduce((s, r) => s + r.ms, 0);
console.log(`wall ${wallMs.toFixed(0)} ms / step, CPU ${cpuMs.toFixed(0)} ms / step (${steps} steps); kernels ${(total / profiled).toFixed(0)} ms / profiled step; tensors ${tf.memory().numTensors}`);
for (const [name, r] of [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`${name.padEnd(28)} ${(r.calls / profiled).toFixed(1).padStart(6)} calls ${(r.ms / profiled).toFixed(1).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`);
}
m.model.dispose?.();
