import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../src-main/engine/tf';
import { getModelSpec } from '../../src-main/engine/models';
import { createOptimizer, type Param } from '../../src-main/engine/train/optimizers';
import { afterEpoch, initialSchedule, PAPER_PLATEAU } from '../../src-main/engine/train/schedule';
import { checkMemory, estimateTrainingMemory, memoryLimitFor } from '../../src-main/engine/train/memory';
import { MemoryLimitError } from '../../src-main/engine/train/errors';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeCheckpointFile } from '../../src-main/engine/train/checkpoint-file';
import { RunFolderError } from '../../src-main/engine/train/errors';
import { KernelSnapshotStore, thinIndices, readKernelSnapshot, type KernelIndex } from '../../src-main/engine/train/kernel-snapshots';
import { JsonLines, parseJsonLines } from '../../src-main/engine/train/json-lines';
import { crossEntropyFromLogits, correctCounts, kerasClippedCrossEntropy, KERAS_EPSILON } from '../../src-main/engine/train/loss';

await tf.setBackend('cpu');

function param(name: string, values: number[]): Param {
  return { name, variable: tf.variable(tf.tensor1d(values), true) };
}

describe('SGD as in the AlexNet paper', () => {
  it('computes v = m*v - wd*lr*w - lr*g; w += v, step after step', async () => {
    const p = param('w', [1, -2]);
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.0005 });
    let w = [1, -2];
    let v = [0, 0];
    const grads = [[0.5, 0.25], [-1, 2], [0.1, 0.1]];
    for (const g of grads) {
      const gt = tf.tensor1d(g);
      opt.apply([p], [gt], 0.1);
      gt.dispose();
      v = v.map((vi, i) => 0.9 * vi - 0.0005 * 0.1 * w[i] - 0.1 * g[i]);
      w = w.map((wi, i) => wi + v[i]);
    }
    const got = Array.from(await p.variable.data());
    got.forEach((x, i) => expect(x).toBeCloseTo(w[i], 6));
    const state = await opt.getState();
    expect(state.iterations).toBe(3);
    expect(Array.from(state.slots[0].values)[0]).toBeCloseTo(v[0], 6);
    opt.dispose();
    p.variable.dispose();
  });
});

describe('Adam', () => {
  it('follows tf.train.adam within float32 rounding', async () => {
    const ours = param('w', [0.3, -0.7, 1.5]);
    const theirs = tf.variable(tf.tensor1d([0.3, -0.7, 1.5]));
    const opt = createOptimizer({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
    const ref = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 5; i++) {
      const loss = () => tf.sum(tf.square(tf.sub(ours.variable, tf.tensor1d([1, 2, 3])))) as tf.Scalar;
      const { grads } = tf.variableGrads(loss, [ours.variable]);
      opt.apply([ours], [grads[ours.variable.name]], 0.01);
      tf.dispose(grads);
      ref.minimize(() => tf.sum(tf.square(tf.sub(theirs, tf.tensor1d([1, 2, 3])))) as tf.Scalar, false, [theirs]);
    }
    const a = await ours.variable.data();
    const b = await theirs.data();
    for (let i = 0; i < 3; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    opt.dispose();
    ref.dispose();
    ours.variable.dispose();
    theirs.dispose();
  });

  it('restores its state exactly: a restored optimizer continues bit for bit', async () => {
    const cfg = { kind: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.01 } as const;
    const g = tf.tensor1d([0.2, -0.4]);
    const a = param('layer/kernel', [1, 2]);
    const optA = createOptimizer(cfg);
    for (let i = 0; i < 3; i++) optA.apply([a], [g], 0.05);
    const state = await optA.getState();
    const b = param('layer/kernel', Array.from(await a.variable.data()));
    const optB = createOptimizer(cfg);
    optB.setState([b], state);
    optA.apply([a], [g], 0.05);
    optB.apply([b], [g], 0.05);
    expect(Array.from(await b.variable.data())).toEqual(Array.from(await a.variable.data()));
    for (const x of [optA, optB]) x.dispose();
    for (const x of [a, b]) x.variable.dispose();
    g.dispose();
  });
});

describe('divide-by-10-on-plateau schedule', () => {
  it('divides the rate when the error stops improving, at most 3 times', () => {
    let s = initialSchedule(0.01);
    const errors = [0.5, 0.4, 0.45, 0.39, 0.39, 0.38, 0.4, 0.41, 0.42, 0.43];
    const lrs: number[] = [];
    for (const e of errors) {
      s = afterEpoch(PAPER_PLATEAU, s, e);
      lrs.push(s.lr);
    }
    expect(lrs.map((x) => Number(x.toPrecision(3)))).toEqual([0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001, 0.00001, 0.00001, 0.00001, 0.00001]);
    expect(s.drops).toBe(3);
    expect(s.bestError).toBe(0.38);
  });
});

describe('memory estimate', () => {
  it('refuses full AlexNet at batch 4096 on wasm, with the figure and the limit', () => {
    const spec = getModelSpec('alexnet');
    const est = estimateTrainingMemory(spec, 4096, { kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0.0005 });
    // 60,965,224 params: weights + gradients + momentum = 3 x 4 bytes each
    expect(est.weightBytes + est.gradientBytes + est.optimizerBytes).toBe(60_965_224 * 12);
    // conv1's output alone is 55x55x96 floats per image
    expect(est.forwardBytes).toBeGreaterThan(4096 * 55 * 55 * 96 * 4);
    let error: unknown;
    try {
      checkMemory(est, memoryLimitFor('wasm'), 'alexnet');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryLimitError);
    const message = (error as Error).message;
    expect(message).toMatch(/alexnet at batch 4096 needs about [\d.]+ GiB/);
    expect(message).toMatch(/4\.0 GiB/);
    expect((error as MemoryLimitError).estimateBytes).toBe(est.totalBytes);
    // a cpu limit is this machine's RAM; one tensor is capped by the typed-array length
    expect(() => checkMemory(est, { backend: 'cpu', totalBytes: 2 ** 40, maxTensorElements: 2 ** 30, source: 'test' }, 'alexnet')).toThrow(/tensor of 1,189,478,400 elements/);
  });

  it('accepts lenet5 at batch 64', () => {
    const est = estimateTrainingMemory(getModelSpec('lenet5'), 64, { kind: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
    expect(est.optimizerBytes).toBe(44_426 * 8);
    expect(() => checkMemory(est, memoryLimitFor('wasm'), 'lenet5')).not.toThrow();
  });
});

describe('checkpoint file', () => {
  it('round-trips meta and arrays exactly', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ckpt-'));
    const content = {
      meta: { step: 7, note: 'x' },
      arrays: { weights: [{ name: 'a/kernel', shape: [2, 2], values: new Float32Array([1.5, -2, Math.PI, 1e-30]) }], slots: [{ name: 'b', shape: [1], values: new Float32Array([3]) }] },
    };
    const file = path.join(dir, 'checkpoint.bin');
    await writeCheckpointFile(file, content);
    const back = await readCheckpointFile<{ step: number }>(file);
    expect(back!.meta.step).toBe(7);
    expect(Array.from(back!.arrays.weights[0].values)).toEqual(Array.from(content.arrays.weights[0].values));
    expect(back!.arrays.slots[0].name).toBe('b');
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.bin']);
    expect(await readCheckpointFile(path.join(dir, 'none.bin'))).toBeNull();
  });

  it('with a previous file, keeps the checkpoint it replaces there (and only that one)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ckpt-'));
    const file = path.join(dir, 'checkpoint.bin');
    const previous = path.join(dir, 'checkpoint.prev.bin');
    const at = (step: number) => ({ meta: { step }, arrays: { weights: [{ name: 'w', shape: [1], values: new Float32Array([step]) }] } });
    await writeCheckpointFile(file, at(1), previous);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.bin']);
    for (const step of [2, 3]) await writeCheckpointFile(file, at(step), previous);
    expect((await readCheckpointFile<{ step: number }>(file))!.meta.step).toBe(3);
    expect((await readCheckpointFile<{ step: number }>(previous))!.meta.step).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.bin', 'checkpoint.prev.bin']);
  });

  it('rejects a truncated file', () => {
    const bytes = encodeCheckpoint({ meta: {}, arrays: { w: [{ name: 'w', shape: [3], values: new Float32Array([1, 2, 3]) }] } });
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 2), 'x.bin')).toThrow(/expected \d+ bytes/);
  });

  // A checkpoint the size of a small model's: 8 KiB of weights, 8 KiB of optimizer slots.
  const big = () =>
    encodeCheckpoint({
      meta: { position: { globalStep: 40 } },
      arrays: {
        weights: [{ name: 'conv1/kernel', shape: [2048], values: Float32Array.from({ length: 2048 }, (_, i) => Math.sin(i)) }],
        optimizer: [{ name: 'conv1/kernel/m', shape: [2048], values: Float32Array.from({ length: 2048 }, (_, i) => i / 1e4) }],
      },
    });
  const dataStart = (bytes: Uint8Array) => 12 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  /** The checkpoint with its JSON header replaced by edit(header), re-padded so the data stays aligned. */
  function withHeader(bytes: Uint8Array, edit: (h: { meta: unknown; metaCrc32?: number; groups: Record<string, Record<string, unknown>[]> }) => void): Uint8Array {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, dataStart(bytes))));
    edit(header);
    let json = JSON.stringify(header);
    json += ' '.repeat((4 - ((12 + json.length) % 4)) % 4);
    const out = new Uint8Array(12 + json.length + bytes.length - dataStart(bytes));
    out.set(bytes.subarray(0, 8));
    new DataView(out.buffer).setUint32(8, json.length, true);
    out.set(new TextEncoder().encode(json), 12);
    out.set(bytes.subarray(dataStart(bytes)), 12 + json.length);
    return out;
  }

  it.each([
    ['4 KiB of zeroed weights', (b: Uint8Array) => b.fill(0, dataStart(b) + 100, dataStart(b) + 100 + 4096), /weights array conv1\/kernel fails its checksum/],
    ['4 KiB of NaN in the optimizer slots', (b: Uint8Array) => new Float32Array(b.buffer, dataStart(b) + 8192, 1024).fill(NaN), /optimizer array conv1\/kernel\/m fails its checksum/],
    ['a changed run state', (b: Uint8Array) => b.set(new TextEncoder().encode('41'), new TextDecoder().decode(b).indexOf('"globalStep":40') + 13), /its run state fails its checksum/],
  ])('refuses a corrupt checkpoint by name: %s', (_what, damage, problem) => {
    const bytes = big();
    expect(decodeCheckpoint(bytes, 'ok.bin').arrays.weights[0].values[1]).toBeCloseTo(Math.sin(1));
    damage(bytes);
    const error = (() => {
      try {
        decodeCheckpoint(bytes, '/runs/r/checkpoint.bin');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(RunFolderError);
    expect(error!.message).toMatch(/^checkpoint \/runs\/r\/checkpoint\.bin is corrupt: /);
    expect(error!.message).toMatch(problem);
    expect((error as RunFolderError).code).toBe('checkpoint-corrupt');
  });

  it.each([
    ['an offset past the end', (e: Record<string, unknown>) => (e.offset = 1e9), /weights: array conv1\/kernel reaches past the end of the data/],
    ['a misaligned offset', (e: Record<string, unknown>) => (e.offset = 3), /malformed offset or length/],
    ['a negative length', (e: Record<string, unknown>) => (e.length = -5), /malformed offset or length/],
    ['a shape that does not match', (e: Record<string, unknown>) => (e.shape = [7]), /has 2048 values but shape 7/],
    ['no name', (e: Record<string, unknown>) => delete e.name, /an array without a name/],
  ])('refuses corrupted array offsets in one line, never a stack trace: %s', (_what, edit, problem) => {
    const bytes = withHeader(big(), (h) => edit(h.groups.weights[0]));
    expect(() => decodeCheckpoint(bytes, 'c.bin')).toThrow(RunFolderError);
    expect(() => decodeCheckpoint(bytes, 'c.bin')).toThrow(problem);
  });

  it('still reads checkpoints written before checksums (unchecked)', () => {
    const old = withHeader(big(), (h) => {
      delete h.metaCrc32;
      for (const entries of Object.values(h.groups)) for (const e of entries) delete e.crc32;
    });
    const back = decodeCheckpoint<{ position: { globalStep: number } }>(old, 'old.bin');
    expect(back.meta.position.globalStep).toBe(40);
    expect(back.arrays.optimizer[0].values[10]).toBeCloseTo(0.001);
  });
});

describe('kernel snapshots', () => {
  it('thins by dropping every other snapshot, keeping the first and the last', () => {
    expect(thinIndices(5)).toEqual([0, 2, 4]);
    expect(thinIndices(6)).toEqual([0, 2, 4, 5]);
    expect(thinIndices(2)).toEqual([0, 1]);
  });

  it('stays within its disk budget and keeps first and last', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'snap-'));
    const kernel = (v: number) => [{ name: 'conv1', shape: [2, 2, 1, 2], values: new Float32Array(8).fill(v) }];
    // 32 bytes per snapshot, budget for 5
    const store = await KernelSnapshotStore.open(dir, kernel(0), 160);
    for (let step = 0; step <= 100; step += 10) await store.add(step, 0, kernel(step));
    const steps = store.snapshots.map((s) => s.step);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(100);
    expect(store.totalBytes).toBeLessThanOrEqual(160);
    const files = (await readdir(path.join(dir, 'kernels'))).filter((f) => f.endsWith('.f32'));
    expect(files.length).toBe(steps.length);
    const index = JSON.parse(await readFile(path.join(dir, 'kernels', 'index.json'), 'utf8')) as KernelIndex;
    expect(index.snapshots.map((s) => s.step)).toEqual(steps);
    const last = readKernelSnapshot(dir, index.snapshots.at(-1)!, index);
    expect(Array.from(last[0].values)).toEqual(new Array(8).fill(100));
    await store.dropAfter(50);
    expect(store.snapshots.every((s) => s.step <= 50)).toBe(true);
  });
});

describe('JSON lines', () => {
  it('appends, truncates back to a recorded size, and skips a torn last line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'jl-'));
    const file = path.join(dir, 'batch.jsonl');
    const log = new JsonLines(file);
    log.append({ step: 1 });
    const mark = log.bytes;
    log.append({ step: 2 });
    new JsonLines(file).truncateTo(mark);
    await writeFile(file, (await readFile(file, 'utf8')) + '{"step": 3, "lo');
    expect(parseJsonLines(await readFile(file, 'utf8'))).toEqual([{ step: 1 }]);
  });
});

describe('loss and accuracy counts', () => {
  it('cross-entropy from logits is -mean log softmax(z)[label]; top-1/top-5 counts follow the rank of the true class', async () => {
    const z = [
      [2.0, 0.1, -1.0, 0.3, -0.5, 0.0, -2.0],
      [0.5, 1.0, 1.5, 0.2, -0.1, 0.0, -0.3],
    ];
    const logSoftmax = (row: number[], k: number) => row[k] - Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    const logits = tf.tensor2d(z);
    const labels = tf.tensor1d([0, 6], 'int32');
    const loss = crossEntropyFromLogits(logits as tf.Tensor2D, labels as tf.Tensor1D);
    expect((await loss.data())[0]).toBeCloseTo(-(logSoftmax(z[0], 0) + logSoftmax(z[1], 6)) / 2, 5);
    const counts = correctCounts(logits as tf.Tensor2D, labels as tf.Tensor1D);
    // Row 1: top-1. Row 2: six classes score above the true one, so not even top-5.
    expect(Array.from(await counts.data())).toEqual([1, 1]);
    tf.dispose([logits, labels, loss, counts]);
  });

  it('keeps a finite loss and a live gradient where the softmax has saturated', async () => {
    const logits = tf.tensor2d([[400, 0, -300]]);
    const labels = tf.tensor1d([1], 'int32');
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => crossEntropyFromLogits(z as tf.Tensor2D, labels as tf.Tensor1D))(logits);
    expect((await value.data())[0]).toBeCloseTo(400, 3);
    // d loss / d z = softmax(z) - onehot = [1, -1, 0].
    expect(Array.from(await grad.data()).map((g) => Math.round(g * 1e4) / 1e4)).toEqual([1, -1, 0]);
    tf.dispose([logits, labels, value, grad]);
  });

  it("keras-clipped is Keras 2.2's loss: -log(clip(p, 1e-7, 1 - 1e-7)), no gradient from clipped examples", async () => {
    // Row 1: p(label) ~ 0.24, unclipped. Row 2: p(label) = e^-400, clipped (as a net on 0-255 pixels starts).
    const z = [
      [0.5, 1.0, -0.5],
      [400, 0, -300],
    ];
    const softmax = (row: number[]) => row.map((v) => Math.exp(v - Math.max(...row))).map((e, _, all) => e / all.reduce((a, b) => a + b, 0));
    const p0 = softmax(z[0]);
    const logits = tf.tensor2d(z);
    const labels = tf.tensor1d([0, 1], 'int32');
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => kerasClippedCrossEntropy(t as tf.Tensor2D, labels as tf.Tensor1D))(logits);
    expect((await value.data())[0]).toBeCloseTo((-Math.log(p0[0]) - Math.log(KERAS_EPSILON)) / 2, 5);
    const g = Array.from(await grad.data());
    // Mean over 2 examples: row 1 gets (softmax - onehot) / 2, row 2 nothing.
    [p0[0] - 1, p0[1], p0[2]].forEach((v, k) => expect(g[k]).toBeCloseTo(v / 2, 6));
    expect(g.slice(3)).toEqual([0, 0, 0]);
    tf.dispose([logits, labels, value, grad]);
  });
});
