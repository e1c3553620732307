// Training through the engine's handlers on the cpu backend with a small LeNet-5 on the first 256 MNIST
// examples: a run started in the background and followed by subscribeRun and watchRuns, pause / resume /
// stop, resumeRun, then the run folder read back (listRuns, openRun, kernel timeline, dead ReLUs, evaluation).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { TrainingConfig, TrainingEvent } from '../../src-main/contract/training';
import { tf } from '../../src-main/engine/tf';
import { readRun } from '../../src-main/engine/train';
import { readCheckpointFile } from '../../src-main/engine/train/checkpoint-file';
import type { CheckpointMeta } from '../../src-main/engine/train/trainer';
import { countParams, getModelSpec } from '../../src-main/engine/models';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { batchColumns } from '../../src-main/engine/handlers/runs';
import { call, expectCode, failure, subscribe, type Subscribed } from './handlers-support';
import { resourcesDir } from '../../src-main/engine/paths';

// 256 examples in batches of 32: 8 steps an epoch.
const CONFIG: TrainingConfig = {
  model: { id: 'lenet5', overrides: { width: 0.25, activation: 'relu' } },
  dataset: 'mnist',
  limit: 256,
  testLimit: 64,
  batchSize: 32,
  epochs: 1,
  snapshotEvery: 4,
  statsEvery: 4,
  probeSize: 16,
};

let scratch: string;
let runsDir: string;
let engine: Engine;
let watch: Subscribed<'watchRuns'>;
let runDir: string;
let runId: string;
let followed: Subscribed<'subscribeRun'>;
let followedToo: Subscribed<'subscribeRun'>;

let tensorsAtStart: number;

/** Polls until cond holds (training steps take a second or two on the cpu backend of a busy machine). */
async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the run');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ofType = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) => events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-handlers-training-'));
  runsDir = path.join(scratch, 'runs');
  engine = createEngine({ runsDir, backend: 'cpu', argv: ['test-engine'] });
  await engine.ready();
  tensorsAtStart = tf.memory().numTensors;
  watch = await subscribe(engine.handlers, 'watchRuns', {});
  expect(watch.result.runs).toEqual([]);
  ({ runId, runDir } = await call(engine.handlers, 'startTraining', { config: CONFIG }));
  followed = await subscribe(engine.handlers, 'subscribeRun', { runId });
  followedToo = await subscribe(engine.handlers, 'subscribeRun', { runId });
  expect(await followed.ended).toBeUndefined();
  expect(await followedToo.ended).toBeUndefined();
}, 240_000);

afterAll(async () => {
  watch?.cancel();
  await engine?.shutdown();
  await rm(scratch, { recursive: true, force: true });
});

describe('a run started by startTraining', () => {
  it('trains in the background, streams its events to subscribeRun and ends the subscription when finished', async () => {
    expect(path.dirname(runDir)).toBe(runsDir);
    expect(runId).toBe(path.basename(runDir));
    expect(followed.result).toMatchObject({ runId, runDir, epochs: [], warnings: [] });
    expect(followed.result.state).toBe('running');

    const events = followed.events;
    expect(events.at(-1)).toEqual({ type: 'state', state: 'finished' });
    const steps = ofType(events, 'batches').flatMap((e) => e.records.map((r) => r.step));
    expect(steps).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    const epochs = ofType(events, 'epoch');
    expect(epochs).toHaveLength(1);
    expect(epochs[0].record).toMatchObject({ epoch: 1, examples: 256 });
    expect(epochs[0].record.testAccuracy).not.toBeNull();

    // Kernel snapshots at steps 4 and 8 (step 0 may precede the subscription), with the small layers' kernels.
    const kernels = ofType(events, 'kernels');
    expect(kernels.map((k) => k.snapshot.step).filter((s) => s > 0)).toEqual([4, 8]);
    const last = kernels.at(-1)!;
    expect(last.kernels.map((k) => [k.layer, k.kernel.shape])).toEqual([
      ['conv1', [5, 5, 1, 2]],
      ['conv2', [5, 5, 2, 4]],
    ]);
    const stats = ofType(events, 'layerStats');
    expect(stats.map((s) => s.record.step)).toEqual([4, 8]);
    const conv1 = stats[0].record.layers.find((l) => l.layer === 'conv1')!;
    expect(conv1).toMatchObject({ kind: 'conv', activation: 'relu', channels: 2 });
    expect(conv1.deadFraction).toBeInstanceOf(Float32Array);
    expect(ofType(events, 'checkpoint').map((c) => c.reason)).toContain('epoch');
    expect(ofType(events, 'progress').at(-1)!.progress.fraction).toBe(1);

    // A second subscriber gets the same events in arrays of its own (a transport may detach what it sends).
    expect(followedToo.events).toEqual(events);
    expect(ofType(followedToo.events, 'kernels').at(-1)!.kernels[0].kernel.data).not.toBe(last.kernels[0].kernel.data);

    // watchRuns saw the run appear and finish.
    expect(watch.events.filter((e) => e.runId === runId).map((e) => e.state)).toEqual(['running', 'finished']);
    // A subscription to an ended run gets its snapshot and ends at once.
    const late = await subscribe(engine.handlers, 'subscribeRun', { runId });
    expect(late.result.state).toBe('finished');
    expect(late.result.epochs).toHaveLength(1);
    expect(await late.ended).toBeUndefined();
    expect(late.events).toEqual([]);
  });

  it('lists the run and opens its folder: config, epochs, batch columns, layer statistics, kernel snapshots', async () => {
    const listed = await call(engine.handlers, 'listRuns', {});
    expect(listed.dir).toBe(runsDir);
    const summary = listed.runs.find((r) => r.runDir === runDir)!;
    expect(summary).toMatchObject({ runId, modelId: 'lenet5', dataset: 'mnist', epochs: 1, status: { state: 'finished', globalStep: 8 } });
    expect(summary.lastEpoch?.epoch).toBe(1);

    const detail = await call(engine.handlers, 'openRun', { runDir });
    const onDisk = await readRun(runDir);
    expect(detail.config).toMatchObject({ dataset: 'mnist', limit: 256, batchSize: 32, backend: 'cpu', model: { id: 'lenet5', overrides: { width: 0.25, activation: 'relu' } } });
    expect(detail.status.state).toBe('finished');
    expect(detail.epochs).toEqual(onDisk.epochs);
    expect(Array.from(detail.batches.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(detail.batches.loss)).toEqual(onDisk.batches.map((b) => Math.fround(b.loss)));
    expect(detail.layerStats.map((r) => r.step)).toEqual([4, 8]);
    expect(detail.kernelSnapshots.map((s) => s.step)).toEqual([0, 4, 8]);
    expect(detail.convLayers).toEqual(['conv1', 'conv2']);
    expect(detail.hasCheckpoint).toBe(true);
    expect(detail.runId).toBe(runId);

    expectCode(await failure(engine.handlers, 'openRun', { runDir: scratch }), 'not-found');
    expectCode(await failure(engine.handlers, 'listRuns', { dir: path.join(scratch, 'nowhere') }), 'not-found');
  });

  it('tells an interrupted run from one another process trains, and refuses to resume the latter', async () => {
    const copy = path.join(scratch, 'elsewhere', 'copied-run');
    await cp(runDir, copy, { recursive: true });
    const status = JSON.parse(await readFile(path.join(copy, 'status.json'), 'utf8'));
    const setStatus = (pid: number) => writeFile(path.join(copy, 'status.json'), JSON.stringify({ ...status, state: 'running', pid }));
    await setStatus(2 ** 22 + 12_345); // above Linux's pid_max: no such process
    const interrupted = (await call(engine.handlers, 'listRuns', { dir: path.dirname(copy) })).runs[0];
    expect(interrupted.status.state).toBe('stopped');
    expect(interrupted.status.message).toMatch(/^interrupted: the process training it \(pid \d+\) ended/);

    await setStatus(process.ppid); // alive, and not this process
    expect((await call(engine.handlers, 'listRuns', { dir: path.dirname(copy) })).runs[0].status.state).toBe('running');
    const busy = await failure(engine.handlers, 'resumeRun', { runDir: copy });
    expectCode(busy, 'user-error', 'run-busy');
    expect(busy.message).toContain(`pid ${process.ppid}`);

    // Written on another machine (the exported PyTorch trainer records its host): its pid cannot be checked here.
    await writeFile(path.join(copy, 'status.json'), JSON.stringify({ ...status, state: 'running', pid: 2 ** 22 + 12_345, host: 'gpu-node-7' }));
    expect((await call(engine.handlers, 'listRuns', { dir: path.dirname(copy) })).runs[0].status.state).toBe('running');
    expect((await failure(engine.handlers, 'resumeRun', { runDir: copy })).message).toContain('on gpu-node-7');
    await writeFile(path.join(copy, 'status.json'), JSON.stringify({ ...status, state: 'running', pid: 2 ** 22 + 12_345, host: hostname() }));
    expect((await call(engine.handlers, 'listRuns', { dir: path.dirname(copy) })).runs[0].status.state).toBe('stopped');

    // Opened folders (convscope serve --open): a run folder itself, or the run folders inside a folder, are
    // listed beside the engine's own runs; other folders add nothing.
    for (const open of [[copy], [path.dirname(copy)], [path.dirname(copy), copy, scratch]]) {
      const other = createEngine({ runsDir, backend: 'cpu', openFolders: open });
      const listed = (await call(other.handlers, 'listRuns', {})).runs.map((r) => r.runDir).sort();
      expect(listed, open.join(', ')).toEqual([copy, runDir].sort());
      await other.shutdown();
    }
  });

  it("follows one filter's norm over the snapshots and the kernel's change since the first", async () => {
    const t = await call(engine.handlers, 'kernelTimeline', { runDir, layer: 'conv1' });
    expect(t.layers).toEqual(['conv1', 'conv2']);
    expect(t.snapshots.map((s) => [s.index, s.step])).toEqual([
      [0, 0],
      [1, 4],
      [2, 8],
    ]);
    expect(t.norms.shape).toEqual([3, 2]);
    expect(t.snapshot).toEqual(t.snapshots[2]);
    expect(t.kernel.shape).toEqual([5, 5, 1, 2]);
    const first = await call(engine.handlers, 'kernelTimeline', { runDir, layer: 'conv1', snapshot: 0 });
    expect(Array.from(first.difference.data).every((v) => v === 0)).toBe(true);
    t.difference.data.forEach((d, i) => expect(d).toBeCloseTo(t.kernel.data[i] - first.kernel.data[i], 6));
    // The norms are the kernels' own: filter 0 of the latest snapshot.
    const norm0 = Math.hypot(...Array.from(t.kernel.data).filter((_, i) => i % 2 === 0));
    expect(t.norms.data[2 * 2]).toBeCloseTo(norm0, 5);

    expectCode(await failure(engine.handlers, 'kernelTimeline', { runDir, layer: 'fc1' }), 'user-error', 'bad-layer');
    expectCode(await failure(engine.handlers, 'kernelTimeline', { runDir, layer: 'conv1', snapshot: 3 }), 'user-error', 'bad-snapshot');

    // A run stopped before its first snapshot: its index lists none.
    const early = path.join(scratch, 'no-snapshots');
    await cp(runDir, early, { recursive: true });
    const indexFile = path.join(early, 'kernels', 'index.json');
    await writeFile(indexFile, JSON.stringify({ ...JSON.parse(await readFile(indexFile, 'utf8')), snapshots: [] }));
    const none = await failure(engine.handlers, 'kernelTimeline', { runDir: early, layer: 'conv1' });
    expectCode(none, 'user-error', 'no-snapshots');
    expect(none.message).toContain('no kernel snapshot yet');
  });

  it("measures dead ReLUs and evaluates the run's checkpoint on its own held-out MNIST examples", async () => {
    const model = { kind: 'run' as const, dir: runDir };
    const dead = await call(engine.handlers, 'deadRelu', { model, probeSize: 32 });
    expect(dead.dataset).toBe('mnist');
    expect(dead.probeSize).toBe(32);
    expect(dead.layers.map((l) => [l.layer, l.channels])).toEqual([
      ['conv1', 2],
      ['conv2', 4],
      ['fc1', 30],
      ['fc2', 21],
    ]);
    for (const l of dead.layers) {
      expect(l.deadFraction).toHaveLength(l.channels);
      expect(l.dead).toEqual(Array.from(l.deadFraction.keys()).filter((i) => l.deadFraction[i] === 1));
    }

    const e = await call(engine.handlers, 'evaluate', { model, dataset: 'mnist', limit: 64 });
    expect(e).toMatchObject({ dataset: 'mnist', split: 'test', examples: 64, shape: [28, 28, 1] });
    expect(e.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(e.confusion.shape).toEqual([10, 10]);
    expect(Array.from(e.confusion.data).reduce((a, b) => a + b, 0)).toBe(64);
    const correct = Array.from(e.predicted).filter((p, i) => p === e.labels[i]).length;
    expect(e.accuracy).toBe(correct / 64);
    // The run's epoch record measured the same 64 test examples with the same weights.
    const detail = await call(engine.handlers, 'openRun', { runDir });
    expect(e.accuracy).toBeCloseTo(detail.epochs[0].testAccuracy!, 10);

    // A confusion cell's examples open by their index, through the model's input path: the same prediction.
    for (const i of [0, 1, 2, 17, 63]) {
      const r = await call(engine.handlers, 'inspect', { image: { kind: 'example', split: 'test', index: i }, model, options: { layers: ['conv1'] } });
      expect(r.predictions[0].index, `test example ${i}`).toBe(e.predicted[i]);
      expect(r.image).toEqual({ width: 28, height: 28, channels: 1 });
    }
    expectCode(await failure(engine.handlers, 'inspect', { image: { kind: 'example', split: 'test', index: 10_000 }, model }), 'user-error', 'bad-index');

    // A model of the right shape without a run: the built-in dataset it fits.
    const zoo = await call(engine.handlers, 'deadRelu', { model: { kind: 'zoo', id: 'lenet5', overrides: { width: 0.25, activation: 'relu' } }, probeSize: 8 });
    expect(zoo.dataset).toBe('mnist');
    expectCode(await failure(engine.handlers, 'deadRelu', { model: { kind: 'zoo', id: 'alexnet', overrides: { width: 0.125, input: '67x67x3', classes: 7 } } }), 'user-error', 'no-dataset');
  });

  it("inspects an image with the run's latest checkpoint", async () => {
    const pixels = Buffer.alloc(28 * 28);
    for (let y = 4; y < 24; y++) pixels[y * 28 + 14] = 255;
    const png = new Uint8Array(await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer());
    const r = await call(engine.handlers, 'inspect', { image: { kind: 'bytes', data: png }, model: { kind: 'run', dir: runDir } });
    expect(r.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(r.layers[0].output.shape).toEqual([24, 24, 2]);
    expect(r.predictions[0].label).toBe(String(r.predictions[0].index));

    const opened = await call(engine.handlers, 'openModel', { path: runDir });
    expect(opened).toMatchObject({ ref: { kind: 'run', dir: runDir }, format: 'run folder', input: [28, 28, 1], warnings: [] });
    expect(opened.classNames).toEqual(r.classNames);
    expect(opened.summary.totalParams).toBe(countParams(getModelSpec('lenet5', CONFIG.model.overrides)).total);
  });
});

describe('controlling a live run', () => {
  let dir: string;
  let id: string;
  let stoppedAt: number;

  it('pauses after a step, resumes and stops with a checkpoint', async () => {
    ({ runId: id, runDir: dir } = await call(engine.handlers, 'startTraining', { config: { ...CONFIG, epochs: 2, statsEvery: 0, snapshotEvery: 0 } }));
    expect(id).not.toBe(runId);
    const sub = await subscribe(engine.handlers, 'subscribeRun', { runId: id });
    const steps = () => ofType(sub.events, 'batches').flatMap((e) => e.records.map((r) => r.step));
    await until(() => steps().length >= 2);

    expect(await call(engine.handlers, 'pauseTraining', { runId: id })).toEqual({ runId: id, state: 'paused' });
    const pausedAt = ofType(sub.events, 'checkpoint').find((c) => c.reason === 'pause')!.step;
    expect(pausedAt).toBeGreaterThanOrEqual(2);
    expect(await call(engine.handlers, 'pauseTraining', { runId: id })).toEqual({ runId: id, state: 'paused' });
    const busy = await failure(engine.handlers, 'startTraining', { config: { ...CONFIG, backend: 'wasm' } });
    expectCode(busy, 'user-error', 'backend-busy');
    expect(busy.message).toMatch(/trains on the cpu backend and 1 run is live/);
    await new Promise((r) => setTimeout(r, 500));
    expect(steps().at(-1)).toBe(pausedAt); // nothing trains while paused

    expect(await call(engine.handlers, 'resumeTraining', { runId: id })).toEqual({ runId: id, state: 'running' });
    await until(() => steps().at(-1)! > pausedAt);
    expect(await call(engine.handlers, 'stopTraining', { runId: id })).toEqual({ runId: id, state: 'stopped' });
    expect(await sub.ended).toBeUndefined();
    expect(ofType(sub.events, 'state').map((e) => e.state).filter((s) => s !== 'running')).toEqual(['paused', 'stopped']);
    const last = ofType(sub.events, 'checkpoint').at(-1)!;
    expect(last).toEqual({ type: 'checkpoint', step: steps().at(-1), reason: 'stop' });
    stoppedAt = last.step;
    expect(await call(engine.handlers, 'stopTraining', { runId: id })).toEqual({ runId: id, state: 'stopped' });

    expectCode(await failure(engine.handlers, 'pauseTraining', { runId: 'no-such-run' }), 'not-found');
    expect(watch.events.filter((e) => e.runId === id).map((e) => e.state)).toEqual(['running', 'paused', 'running', 'stopped']);
  });

  it('ends the subscription of a run that fails with its error, as an event and as the end', async () => {
    const config: TrainingConfig = { ...CONFIG, limit: 64, optimizer: { kind: 'sgd', lr: 1e30, momentum: 0, weightDecay: 0 }, snapshotEvery: 0, statsEvery: 0 };
    const { runId: failing } = await call(engine.handlers, 'startTraining', { config });
    const sub = await subscribe(engine.handlers, 'subscribeRun', { runId: failing });
    const error = await sub.ended;
    expect(error).toMatchObject({ code: 'user-error', reason: 'diverged' });
    expect(error!.message).toMatch(/the loss became (NaN|Infinity|-Infinity) at step \d+/);
    expect(sub.events.slice(-2)).toEqual([
      { type: 'state', state: 'failed', message: error!.message },
      { type: 'error', error },
    ]);
    expect(watch.events.filter((e) => e.runId === failing).map((e) => e.state)).toEqual(['running', 'failed']);
  });

  it('frees every tensor of its runs and cached models on shutdown', async () => {
    await engine.shutdown();
    expect(tf.memory().numTensors).toBe(tensorsAtStart);
  });

  it('continues the stopped run in a new engine with resumeRun, from its checkpoint', async () => {
    const next = createEngine({ runsDir, backend: 'cpu', argv: ['test-engine'] });
    try {
      const listed = await call(next.handlers, 'listRuns', {});
      expect(listed.runs.find((r) => r.runDir === dir)).toMatchObject({ runId: null, status: { state: 'stopped', globalStep: stoppedAt } });

      expect(await call(next.handlers, 'resumeRun', { runDir: dir })).toEqual({ runId: id, runDir: dir });
      expectCode(await failure(next.handlers, 'resumeRun', { runDir: dir }), 'user-error', 'run-live');
      // The pretrained run shipped in resources/ is never trained on.
      expectCode(await failure(next.handlers, 'resumeRun', { runDir: path.join(resourcesDir(), 'pretrained', 'lenet5-mnist') }), 'user-error', 'read-only');
      const again = await subscribe(next.handlers, 'subscribeRun', { runId: id });
      expect(again.result.epochs).toHaveLength(stoppedAt >= 8 ? 1 : 0);
      await until(() => ofType(again.events, 'batches').length > 0);
      expect(ofType(again.events, 'batches')[0].records[0].step).toBe(stoppedAt + 1);
      expect(await call(next.handlers, 'stopTraining', { runId: id })).toEqual({ runId: id, state: 'stopped' });
      expect(await again.ended).toBeUndefined();

      const command = JSON.parse(await readFile(path.join(dir, 'command.json'), 'utf8'));
      expect(command.argv).toEqual(['test-engine']);
      expect(command.resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([stoppedAt]);

      // Its latest checkpoint damaged: refused by name, the previous one offered; fromPrevious takes it.
      const latest = path.join(dir, 'checkpoint.bin');
      const previousStep = (await readCheckpointFile<CheckpointMeta>(path.join(dir, 'checkpoint.prev.bin')))!.meta.position.globalStep;
      const bytes = await readFile(latest);
      bytes.fill(0, bytes.length - 1024);
      await writeFile(latest, bytes);
      const refused = await failure(next.handlers, 'resumeRun', { runDir: dir });
      expectCode(refused, 'user-error', 'checkpoint-corrupt-previous-intact');
      expect(refused.message).toContain(`the previous checkpoint ${path.join(dir, 'checkpoint.prev.bin')} (step ${previousStep}) is intact`);
      expect(await call(next.handlers, 'resumeRun', { runDir: dir, fromPrevious: true })).toEqual({ runId: id, runDir: dir });
      expect(await call(next.handlers, 'stopTraining', { runId: id })).toMatchObject({ state: 'stopped' });
      const resumes = JSON.parse(await readFile(path.join(dir, 'command.json'), 'utf8')).resumes;
      expect(resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([stoppedAt, previousStep]);
    } finally {
      await next.shutdown();
    }
  });
});

describe('batch columns', () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ step: i + 1, epoch: i < 5 ? 1 : 2, batch: (i % 5) + 1, size: i === 9 ? 2 : 4, loss: i, accuracy: i / 10, lr: 0.1, seconds: 1 }));

  it('keeps every batch up to the limit and averages equal groups beyond it, weighted by batch size', () => {
    expect(Array.from(batchColumns(records, 100).loss)).toEqual(records.map((r) => r.loss));
    const thin = batchColumns(records, 4);
    expect(Array.from(thin.step)).toEqual([2, 5, 7, 10]);
    expect(Array.from(thin.epoch)).toEqual([1, 1, 2, 2]);
    expect(Array.from(thin.loss)).toEqual([0.5, 3, 5.5, Math.fround((7 * 4 + 8 * 4 + 9 * 2) / 10)]);
  });
});
