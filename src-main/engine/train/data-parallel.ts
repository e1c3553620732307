// Data-parallel training steps: the batch is cut into `ways` contiguous slices; the main thread computes
// slice 0's gradients on the trainer's own model while worker threads (each a single-threaded wasm backend
// and a replica of the model) compute the others'. The gradients are added in slice order, so a step's
// result does not depend on timing; the trainer's optimizer applies the sum to the one model, which keeps
// its optimizer state, checkpoints and kernel snapshots as they are, and the new weights reach the workers
// through a shared buffer before the next step.
import { Worker } from 'node:worker_threads';
import { tf } from '../tf';
import type { ModelSpec } from '../models';
import { TrainConfigError } from './errors';
import type { LossKind } from './loss';
import type { Param } from './optimizers';
import { sliceGradients } from './slice-grads';
import type { StepReply, StepRequest, WorkerInit } from './data-parallel-worker';

const WORKER_ENTRY = new URL('./data-parallel-worker.mjs', import.meta.url);

export interface ParallelStep {
  /** The batch's mean loss. */
  loss: number;
  /** [top-1, top-5] correct in the batch. */
  counts: [number, number];
  /** The batch's gradients, one per param (the caller disposes them). */
  grads: tf.Tensor[];
}

/** Why a model with these layers cannot be trained data-parallel on `backend` (null: it can). */
export function dataParallelRefusal(layers: readonly { name: string; kind: string }[], backend: string): string | null {
  if (backend !== 'wasm') return `data-parallel training runs on the wasm backend only (this run uses ${backend})`;
  const norm = layers.find((l) => l.kind === 'batchNorm');
  if (norm) return `layer ${norm.name} normalises over the batch, so slices of it do not add up to the batch's gradient`;
  return null;
}

export class DataParallel {
  private readonly shared: Float32Array;

  private constructor(
    readonly ways: number,
    private readonly workers: Worker[],
    weights: SharedArrayBuffer,
  ) {
    this.shared = new Float32Array(weights);
  }

  /** Starts `ways - 1` workers building `spec`'s model; rejects if one fails to start. */
  static async start(ways: number, spec: ModelSpec, seed: number, params: readonly Param[]): Promise<DataParallel> {
    const weights = new SharedArrayBuffer(4 * params.reduce((n, p) => n + p.variable.size, 0));
    const workers: Worker[] = [];
    try {
      for (let i = 1; i < ways; i++) {
        const init: WorkerInit = { spec, seed, weights };
        workers.push(new Worker(WORKER_ENTRY, { workerData: init }));
      }
      await Promise.all(workers.map(ready));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new TrainConfigError(`data-parallel training could not start its workers: ${(err as Error).message}`);
    }
    return new DataParallel(ways, workers, weights);
  }

  /** The gradients of the batch (x, labels) at `step`, its loss and correct counts. */
  async step(layers: readonly tf.layers.Layer[], params: readonly Param[], x: tf.Tensor, labels: tf.Tensor1D, task: { runSeed: number; step: number; loss: LossKind }): Promise<ParallelStep> {
    const batchSize = x.shape[0];
    const ways = Math.min(this.ways, batchSize);
    const bounds = Array.from({ length: ways + 1 }, (_, i) => Math.floor((i * batchSize) / ways));
    let offset = 0;
    for (const p of params) {
      this.shared.set(p.variable.dataSync() as Float32Array, offset);
      offset += p.variable.size;
    }
    const xs = ways > 1 ? (x.dataSync() as Float32Array) : null;
    const ys = ways > 1 ? (labels.dataSync() as Int32Array) : null;
    const row = x.size / batchSize;
    const replies = this.workers.slice(0, ways - 1).map((worker, w) => {
      const [start, end] = [bounds[w + 1], bounds[w + 2]];
      const request: StepRequest = {
        task: { ...task, start, batchSize },
        x: xs!.slice(start * row, end * row),
        xShape: [end - start, ...x.shape.slice(1)],
        labels: ys!.slice(start, end),
      };
      worker.postMessage(request, [request.x.buffer as ArrayBuffer, request.labels.buffer as ArrayBuffer]);
      return nextMessage(worker) as Promise<StepReply>;
    });
    const own = tf.tidy(() => {
      const x0 = tf.slice(x, [0], [bounds[1]]);
      const y0 = tf.slice(labels, [0], [bounds[1]]);
      return sliceGradients(layers, params.map((p) => p.variable), x0, y0, { ...task, start: 0, batchSize });
    });
    const others = await Promise.all(replies).catch((err: unknown) => {
      tf.dispose([own.loss, own.counts, ...own.grads]);
      throw new Error(`a data-parallel worker stopped: ${(err as Error).message}`);
    });
    let loss = own.loss.dataSync()[0];
    const [c1, c5] = own.counts.dataSync();
    const counts: [number, number] = [c1, c5];
    tf.dispose([own.loss, own.counts]);
    const failed = others.find((r): r is Extract<StepReply, { ok: false }> => !r.ok);
    if (failed) {
      tf.dispose(own.grads);
      throw new Error(`a data-parallel worker failed: ${failed.message}`);
    }
    let grads = own.grads;
    for (const reply of others as Extract<StepReply, { ok: true }>[]) {
      loss += reply.loss;
      counts[0] += reply.counts[0];
      counts[1] += reply.counts[1];
      const next = tf.tidy(() => grads.map((g, i) => tf.add(g, tf.tensor(reply.grads[i], g.shape, 'float32'))));
      tf.dispose(grads);
      grads = next;
    }
    return { loss, counts, grads };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The worker's next message; rejects on an error or an exit. */
function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: unknown) => {
      done();
      resolve(m);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onExit = (code: number) => {
      done();
      reject(new Error(`worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

async function ready(worker: Worker): Promise<void> {
  const m = await nextMessage(worker);
  if (m !== 'ready') throw new Error((m as Extract<StepReply, { ok: false }>).message);
}
