// Measurements on one backend in a process of their own (one backend per process, as tfjs-node needs;
// the parent kills a measurement that runs past its cap and starts a new child for the rest):
//   node --import tsx bench/measure-child.ts --backend wasm --measures lenet-step,lenet-infer-1 --seconds 10 [--cap 60]
// Prints CONVSCOPE_BENCH lines (see harness.ts). --soak runs the memory soak instead of a measure.
import { parseArgs } from 'node:util';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';
import { activateWebgpu, WebgpuUnavailableError } from '../src-main/engine/backend/webgpu';
import { realProbeDeps } from '../src-main/engine/backend/probe-deps';
import { emit } from './harness';
import { MEASURES } from './measures';
import { runSoak } from './soak';
import { tuneEngineRuntime } from '../src-main/engine/runtime';

tuneEngineRuntime();

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    measures: { type: 'string', default: '' },
    seconds: { type: 'string', default: '10' },
    cap: { type: 'string' },
    soak: { type: 'string' },
    threads: { type: 'string' },
  },
});
const backend = values.backend!;

async function start(): Promise<boolean> {
  try {
    if (backend === 'webgpu') {
      // The benchmark measures whatever adapter there is; a software one is labelled as such.
      const info = await activateWebgpu(realProbeDeps(), { allowSoftware: true });
      emit({ type: 'backend', backend, tfBackend: tf.getBackend(), versions: { tfjs: tf.version.tfjs, node: process.versions.node, ...info.versions }, detail: { adapter: info.adapter } });
    } else {
      const report = await initBackend(backend, values.threads ? { threads: Number(values.threads) } : {});
      const { versions, requested: _r, chosen: _c, tfBackend, skipped: _s, ...detail } = report;
      emit({ type: 'backend', backend, tfBackend, versions, detail });
    }
    return true;
  } catch (err) {
    if (err instanceof WebgpuUnavailableError || (err as { userFacing?: boolean }).userFacing || (err as Error).name === 'BackendUnavailableError') {
      emit({ type: 'unavailable', backend, reason: (err as Error).message });
      return false;
    }
    throw err;
  }
}

if (await start()) {
  if (values.soak) {
    await runSoak(Number(values.soak), backend);
  } else {
    for (const name of values.measures!.split(',').filter(Boolean)) {
      const measure = MEASURES[name];
      if (!measure) throw new Error(`unknown measure '${name}' (${Object.keys(MEASURES).join(', ')})`);
      emit({ type: 'start', measure: name });
      try {
        const figure = await measure.run({ backend, seconds: Number(values.seconds), capSeconds: Number(values.cap ?? measure.cap) });
        emit({ type: 'result', measure: name, figure });
      } catch (err) {
        emit({ type: 'error', measure: name, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
// Dawn and the wasm runtime may keep handles open; the figures are out.
process.exit(0);
