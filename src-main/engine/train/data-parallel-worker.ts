// A data-parallel training worker: a single-threaded wasm backend and a replica of the model, whose weights
// it reads from the shared buffer the main thread writes before each step; answers each step with the
// gradients of its batch slice.
import { parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf';
import { activateWasm } from '../backend/wasm-backend';
import { buildModel, type ModelSpec } from '../models';
import { chainLayers } from './forward';
import { sliceGradients, type SliceTask } from './slice-grads';

export interface WorkerInit {
  spec: ModelSpec;
  seed: number;
  /** The trainable weights, one after another in the model's order, written by the main thread. */
  weights: SharedArrayBuffer;
}

export interface StepRequest {
  task: SliceTask;
  x: Float32Array;
  xShape: number[];
  labels: Int32Array;
}

export type StepReply = { ok: true; loss: number; counts: Float32Array; grads: Float32Array[] } | { ok: false; message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  await activateWasm(process.env, 1);
  const model = buildModel(init.spec, { seed: init.seed });
  const layers = chainLayers(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const shared = new Float32Array(init.weights);
  port.on('message', (request: StepRequest) => {
    try {
      let offset = 0;
      for (const v of variables) {
        const n = v.size;
        tf.tidy(() => v.assign(tf.tensor(shared.subarray(offset, offset + n), v.shape, 'float32')));
        offset += n;
      }
      const x = tf.tensor(request.x, request.xShape, 'float32');
      const labels = tf.tensor1d(request.labels, 'int32');
      const result = sliceGradients(layers, variables, x, labels, request.task);
      tf.dispose([x, labels]);
      const grads = result.grads.map((g) => g.dataSync() as Float32Array);
      const reply: StepReply = { ok: true, loss: result.loss.dataSync()[0], counts: result.counts.dataSync() as Float32Array, grads };
      tf.dispose([result.loss, result.counts, ...result.grads]);
      port.postMessage(reply, grads.map((g) => g.buffer as ArrayBuffer));
    } catch (err) {
      port.postMessage({ ok: false, message: (err as Error).message } satisfies StepReply);
    }
  });
  port.postMessage('ready');
}

main().catch((err: unknown) => parentPort?.postMessage({ ok: false, message: `worker failed to start: ${(err as Error).message}` } satisfies StepReply));
