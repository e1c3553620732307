// Time to inspect one image with the full paper AlexNet (60,965,224 params): decode + preprocess, one
// multi-output forward pass, per-layer statistics and top-5. Warm figures exclude the first call
// (kernel compilation, the probe model's construction). Gradient views are timed separately.
//   npx tsx bench/inspect-alexnet.ts [--backend wasm] [--runs 10] [--json]
import os from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';
import { countParams, getModelSpec } from '../src-main/engine/models';
import { resolveModel } from '../src-main/engine/inspect/model-ref';
import { inspectImage } from '../src-main/engine/inspect/inspect';
import { gradCam, saliency } from '../src-main/engine/inspect/gradients';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, runs: { type: 'string', default: '10' }, json: { type: 'boolean' } } });
const runs = Number(values.runs);

const report = await initBackend(values.backend);
const t0 = performance.now();
const resolved = await resolveModel('alexnet');
const buildMs = performance.now() - t0;
const params = countParams(getModelSpec('alexnet')).total;

// A 500x375 photo-sized JPEG: smooth gradients and a few shapes.
const raw = Buffer.alloc(500 * 375 * 3);
for (let y = 0; y < 375; y++) for (let x = 0; x < 500; x++) raw.set([(x * 255) / 500, (y * 255) / 375, (x - 250) ** 2 + (y - 180) ** 2 < 80 ** 2 ? 240 : 40], (y * 500 + x) * 3);
const jpeg = await sharp(raw, { raw: { width: 500, height: 375, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// CPU time too: on a shared machine wall time includes waiting for a core, CPU time does not.
const times: { total: number; cpu: number; decode: number; forward: number }[] = [];
for (let i = 0; i <= runs; i++) {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const r = await inspectImage(resolved, jpeg);
  const used = process.cpuUsage(cpu);
  times.push({ total: performance.now() - start, cpu: (used.user + used.system) / 1000, decode: r.timings.decodeMs, forward: r.timings.forwardMs });
}
const [cold, ...warm] = times;

const x = (await resolved.prepare.prepare(jpeg)).x;
const gradientTimes: { saliency: number; gradCam: number }[] = [];
for (let i = 0; i < 3; i++) {
  const a = performance.now();
  await saliency(resolved.model, x);
  const b = performance.now();
  await gradCam(resolved.model, x);
  gradientTimes.push({ saliency: b - a, gradCam: performance.now() - b });
}
x.dispose();

const result = {
  model: 'alexnet',
  params,
  backend: report.chosen,
  simd: report.simd ?? null,
  threads: report.threads ?? null,
  buildMs: Math.round(buildMs),
  coldInspectMs: Math.round(cold.total),
  warmInspectMs: { median: Math.round(median(warm.map((t) => t.total))), min: Math.round(Math.min(...warm.map((t) => t.total))), runs: warm.length },
  warmCpuMs: Math.round(median(warm.map((t) => t.cpu))),
  warmDecodeMs: Math.round(median(warm.map((t) => t.decode))),
  warmForwardAndStatsMs: Math.round(median(warm.map((t) => t.forward))),
  saliencyMs: Math.round(median(gradientTimes.slice(1).map((t) => t.saliency))),
  gradCamMs: Math.round(median(gradientTimes.slice(1).map((t) => t.gradCam))),
  tensorsAfter: tf.memory().numTensors,
  loadAverage: os.loadavg()[0],
};
resolved.model.dispose();
if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
else {
  process.stdout.write(
    [
      `alexnet (${params.toLocaleString('en-US')} params) on ${result.backend}${result.simd ? ' (SIMD)' : ''}, ${result.threads ?? 1} thread(s)`,
      `build ${result.buildMs} ms; first inspection ${result.coldInspectMs} ms`,
      `warm inspection: median ${result.warmInspectMs.median} ms, min ${result.warmInspectMs.min} ms over ${runs} runs (decode ${result.warmDecodeMs} ms, forward + stats ${result.warmForwardAndStatsMs} ms); CPU time ${result.warmCpuMs} ms`,
      `saliency ${result.saliencyMs} ms, Grad-CAM ${result.gradCamMs} ms; 1-minute load average ${result.loadAverage.toFixed(1)} on ${os.cpus().length} cores`,
    ].join('\n') + '\n',
  );
}
