// The insight jobs through the real engine and contract (a MessagePort pair): progress events, then one
// result, for the bundled LeNet-5 run on small slices of MNIST.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EngineClient,
  messagePortTransport,
  type EmbeddingResult,
  type ErrorInfo,
  type ModelRef,
  type NeighboursResult,
  type Params,
  type TopPatchesResult,
  type VisualizeResult,
} from '../../src-main/contract';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { sharedRuns } from '../../src-main/engine/handlers/insight';
import { serveEngine } from '../../src-main/engine/host';
import { resourcesDir } from '../../src-main/engine/paths';

const run: ModelRef = { kind: 'run', dir: path.join(resourcesDir(), 'pretrained', 'lenet5-mnist') };
let scratch: string;
let engine: Engine;
let client: EngineClient;
let channel: MessageChannel;
const savedCache = process.env.CONVSCOPE_CACHE_DIR;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'convscope-insight-'));
  process.env.CONVSCOPE_CACHE_DIR = scratch;
  engine = createEngine({ runsDir: scratch, backend: 'cpu' });
  channel = new MessageChannel();
  serveEngine(messagePortTransport(channel.port1 as never), engine.handlers);
  client = new EngineClient(messagePortTransport(channel.port2 as never, { transfer: true }));
});

afterAll(async () => {
  client?.close();
  channel?.port1.close();
  await engine?.shutdown();
  if (savedCache === undefined) delete process.env.CONVSCOPE_CACHE_DIR;
  else process.env.CONVSCOPE_CACHE_DIR = savedCache;
  rmSync(scratch, { recursive: true, force: true });
});

interface Results {
  topPatches: TopPatchesResult;
  visualize: VisualizeResult;
  neighbours: NeighboursResult;
  embedding: EmbeddingResult;
}
type Done<M extends keyof Results> = Results[M];

/** Runs a job to its end: its progress events and its result (or its error). */
function runJob<M extends keyof Results>(method: M, params: Params<M>): Promise<{ progress: number; result: Done<M> }> {
  return new Promise((resolve, reject) => {
    let progress = 0;
    let result: Done<M> | undefined;
    void client
      .subscribe(method, params, {
        onEvent: (e) => {
          const event = e as { kind: string; result?: unknown };
          if (event.kind === 'progress') progress++;
          else result = event.result as Done<M>;
        },
        onEnd: (error?: ErrorInfo) => (error ? reject(new Error(`${error.code}: ${error.message}`)) : result ? resolve({ progress, result }) : reject(new Error('ended without a result'))),
      })
      .then((reply) => {
        if (!reply.ok) reject(new Error(reply.error.message));
        else expect(reply.result.result).toEqual({ accepted: true });
      });
  });
}

describe('insight jobs through the contract', () => {
  it('topPatches: one channel’s patches with their pixels, then read from the cache', async () => {
    const { progress, result } = await runJob('topPatches', { model: run, layer: 'conv2', channel: 5, k: 3, limit: 64 });
    expect(progress).toBeGreaterThan(0);
    expect(result).toMatchObject({ layer: 'conv2', channel: 5, channels: 16, dataset: 'mnist', split: 'test', examples: 64, cached: false });
    expect(result.patches).toHaveLength(3);
    const p = result.patches[0];
    expect(p.image.shape).toEqual([p.window.height, p.window.width, 1]);
    const again = await runJob('topPatches', { model: run, layer: 'conv2', channel: 5, k: 3, limit: 64 });
    expect(again.result.cached).toBe(true);
    expect(again.result.patches.map((q) => q.index)).toEqual(result.patches.map((q) => q.index));
  });

  it('topPatches refuses a channel the layer does not have, with a user error', async () => {
    await expect(runJob('topPatches', { model: run, layer: 'conv2', channel: 16, limit: 8 })).rejects.toThrow(/user-error: layer conv2 has channels 0 to 15/);
  });

  it('neighbours of a test example among training examples, with thumbnails', async () => {
    const { result } = await runJob('neighbours', { model: run, image: { kind: 'example', split: 'test', index: 3 }, k: 4, limit: 2000 });
    expect(result.layer).toBe('fc2');
    expect(result.neighbours).toHaveLength(4);
    expect(result.images.shape).toEqual([4, 28, 28, 1]);
    for (let i = 1; i < 4; i++) expect(result.neighbours[i].distance).toBeGreaterThanOrEqual(result.neighbours[i - 1].distance);
    // MNIST test example 3 is a 0; so are most of its nearest training digits.
    expect(result.neighbours.filter((n) => n.label === 0).length).toBeGreaterThanOrEqual(3);
  });

  it('embedding: PCA coordinates for every example and the image marked', async () => {
    const { result } = await runJob('embedding', { model: run, limit: 300, image: { kind: 'example', split: 'test', index: 0 } });
    expect(result.coords).toHaveLength(600);
    expect(result.labels).toHaveLength(300);
    // The marked image is test example 0 itself: it sits on its own point.
    expect(result.mark![0]).toBeCloseTo(result.coords[0], 3);
    expect(result.mark![1]).toBeCloseTo(result.coords[1], 3);
  });

  it('embedding by UMAP: every example laid out, the image placed beside its own point, the layout kept', async () => {
    const params = { model: run, limit: 300, method: 'umap' as const, image: { kind: 'example' as const, split: 'test' as const, index: 0 } };
    const { result, progress } = await runJob('embedding', params);
    expect(result.method).toBe('umap');
    expect(result.coords).toHaveLength(600);
    expect(result.explained).toEqual([]);
    expect(progress).toBeGreaterThan(0);
    // Test example 0 is among the fitted points: UMAP's transform puts it closer to its own point than most.
    const d = (i: number) => Math.hypot(result.coords[2 * i] - result.mark![0], result.coords[2 * i + 1] - result.mark![1]);
    const closer = Array.from({ length: 300 }, (_, i) => d(i)).filter((x) => x < d(0)).length;
    expect(closer).toBeLessThan(30);
    const again = await runJob('embedding', params);
    expect(Array.from(again.result.coords)).toEqual(Array.from(result.coords));
  });

  it('visualize: a class image, the same again from memory', async () => {
    const params = { model: run, objective: { kind: 'class' as const, classIndex: 1 }, steps: 6, seed: 2 };
    const first = await runJob('visualize', params);
    expect(first.result.image.shape).toEqual([28, 28, 1]);
    expect(first.result.history).toHaveLength(6);
    const second = await runJob('visualize', params);
    expect(second.result.cached).toBe(true);
    expect(Array.from(second.result.image.data)).toEqual(Array.from(first.result.image.data));
  });
});

describe('insight computations asked for twice at once', () => {
  const open = new AbortController().signal;

  it('share one run per key until it settles', async () => {
    const shared = sharedRuns();
    let made = 0;
    const make = () => new Promise<number>((resolve) => setTimeout(() => resolve(++made), 10));
    const [a, b, c] = await Promise.all([shared('x', make, open), shared('x', make, open), shared('y', make, open)]);
    expect([a, b].every((v) => v === a)).toBe(true);
    expect(c).not.toBe(a);
    expect(made).toBe(2);
    // Settled runs are not kept: the next request computes again (the disk cache is what keeps results).
    expect(await shared('x', make, open)).toBe(3);
    // A failure is shared too, and not kept either.
    const failing = () => Promise.reject(new Error('boom'));
    await expect(Promise.all([shared('z', failing, open), shared('z', make, open)])).rejects.toThrow('boom');
    expect(await shared('z', make, open)).toBe(4);
  });

  it('stop a shared run only when every caller has cancelled, and start afresh after', async () => {
    const shared = sharedRuns();
    const stops: AbortSignal[] = [];
    // A run that ends when its signal aborts (as the insight loops do between batches), else after 1 s.
    const make = (stop: AbortSignal) => {
      stops.push(stop);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve('done'), 1000);
        stop.addEventListener('abort', () => (clearTimeout(timer), reject(stop.reason)), { once: true });
      });
    };
    const [first, second] = [new AbortController(), new AbortController()];
    const a = shared('k', make, first.signal);
    const b = shared('k', make, second.signal);
    first.abort(new Error('dialog closed'));
    await new Promise((r) => setTimeout(r, 20));
    expect(stops).toHaveLength(1);
    expect(stops[0].aborted).toBe(false); // the second caller still waits
    second.abort(new Error('view left'));
    await expect(a).rejects.toThrow('view left');
    await expect(b).rejects.toThrow('view left');
    expect(stops[0].aborted).toBe(true);
    // A caller already cancelled when it asks stops its own run at once; the next one runs anew.
    const gone = new AbortController();
    gone.abort(new Error('gone'));
    await expect(shared('k', make, gone.signal)).rejects.toThrow('gone');
    expect(stops).toHaveLength(2);
    const c = shared('k', make, open);
    expect(stops).toHaveLength(3);
    expect(stops[2].aborted).toBe(false);
    expect(await c).toBe('done');
    // Asking again while a cancelled run is still winding down starts a new run instead of joining it.
    const leaving = new AbortController();
    const d = shared('k', make, leaving.signal);
    leaving.abort(new Error('next channel'));
    const e = shared('k', make, open);
    await expect(d).rejects.toThrow('next channel');
    expect(stops).toHaveLength(5);
    expect(await e).toBe('done');
  });
});
