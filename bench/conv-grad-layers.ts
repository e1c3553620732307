// AlexNet's input-gradient kernels, one per conv layer (one group), timed against the forward convolution
// of the same layer: ms per call, best of --runs.
//   npx tsx bench/conv-grad-layers.ts [--threads 1] [--runs 5]
import { parseArgs } from 'node:util';
import { tf } from '../src-main/engine/tf';
import { initBackend } from '../src-main/engine/backend';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '5' } } });
await initBackend('wasm', { threads: Number(values.threads) });
const runs = Number(values.runs);
// [name, input hw, in ch, out ch, k, stride, pad]
const LAYERS: [string, number, number, number, number, number, number][] = [
  ['conv1', 227, 3, 96, 11, 4, 0],
  ['conv2 (group)', 27, 48, 128, 5, 1, 2],
  ['conv3', 13, 256, 384, 3, 1, 1],
  ['conv4 (group)', 13, 192, 192, 3, 1, 1],
  ['conv5 (group)', 13, 192, 128, 3, 1, 1],
];
const best = (f: () => tf.Tensor) => {
  let ms = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const y = f();
    y.dataSync();
    ms = Math.min(ms, performance.now() - t0);
    y.dispose();
  }
  return ms;
};
for (const [name, hw, ci, co, k, s, p] of LAYERS) {
  const x = tf.randomUniform([1, hw, hw, ci]) as tf.Tensor4D;
  const w = tf.randomUniform([k, k, ci, co]) as tf.Tensor4D;
  const y = tf.conv2d(x, w, s, p);
  const fwd = best(() => tf.conv2d(x, w, s, p));
  const bwd = best(() => tf.conv2dTranspose(y, w, x.shape, s, p) as tf.Tensor);
  const macs = y.shape[1]! * y.shape[2]! * k * k * ci * co;
  console.log(`${name.padEnd(14)} forward ${fwd.toFixed(1).padStart(6)} ms  input gradient ${bwd.toFixed(1).padStart(6)} ms  (${((2 * macs) / fwd / 1e6).toFixed(1)} / ${((2 * macs) / bwd / 1e6).toFixed(1)} GFLOP/s)`);
  tf.dispose([x, w, y]);
}
