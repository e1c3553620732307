// Run by webgpu.test.ts in a child process (Dawn must see VK_ICD_FILENAMES / LD_LIBRARY_PATH at
// start-up): starts 'webgpu' through initBackend as `--backend webgpu` does, computes a small conv net's
// outputs and parameter gradients, then the same on 'cpu', and prints both as one JSON line.
import { tf } from '../../src-main/engine/tf';
import { BackendUnavailableError, describeBackend, initBackend } from '../../src-main/engine/backend';

type Result = { output: number[]; grads: number[][] };

/** Deterministic values in [-scale, scale). */
function values(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const SHAPES = {
  x: [3, 16, 16, 2],
  w1: [5, 5, 2, 6], b1: [6], // valid, stride 1, tanh (LeNet's conv)
  w2: [3, 3, 6, 8], b2: [8], // same, stride 2, relu
  w3: [4 * 4 * 8, 10], b3: [10], // dense to 10 logits
} as const;
const PARAMS = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const;
const labels = [1, 7, 3];

async function run(): Promise<Result> {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const x = tf.tensor(values(size(SHAPES.x), 1, 1), [...SHAPES.x]) as tf.Tensor4D;
  const p = Object.fromEntries(PARAMS.map((k, i) => [k, tf.variable(tf.tensor(values(size(SHAPES[k]), 10 + i, 0.3), [...SHAPES[k]]))])) as Record<(typeof PARAMS)[number], tf.Variable>;
  const net = () => {
    const c1 = tf.tanh(tf.add(tf.conv2d(x, p.w1 as tf.Tensor4D, 1, 'valid'), p.b1)); // 12x12x6
    const m1 = tf.maxPool(c1 as tf.Tensor4D, 2, 2, 'valid'); // 6x6x6
    const c2 = tf.relu(tf.add(tf.conv2d(m1, p.w2 as tf.Tensor4D, 2, 'same'), p.b2)); // 3x3x8
    const padded = tf.pad(c2, [[0, 0], [0, 1], [0, 1], [0, 0]]); // 4x4x8
    return tf.add(tf.matMul(tf.reshape(padded, [3, 4 * 4 * 8]), p.w3 as tf.Tensor2D), p.b3) as tf.Tensor2D;
  };
  const logits = net();
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), net()) as tf.Scalar);
  const result: Result = {
    output: Array.from(await logits.data()),
    grads: await Promise.all(PARAMS.map(async (k) => Array.from(await grads[p[k].name].data()))),
  };
  tf.dispose([x, logits, ...Object.values(grads), ...Object.values(p)]);
  return result;
}

try {
  const report = await initBackend('webgpu');
  const webgpu = await run();
  await tf.setBackend('cpu');
  const cpu = await run();
  process.stdout.write(JSON.stringify({ ok: true, report, description: describeBackend(report), webgpu, cpu }) + '\n');
} catch (err) {
  if (!(err instanceof BackendUnavailableError)) throw err;
  process.stdout.write(JSON.stringify({ ok: false, reason: err.message }) + '\n');
}
process.exit(0);
