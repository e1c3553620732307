import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodePacket,
  EngineClient,
  encodePacket,
  isPacket,
  messagePortTransport,
  type EngineHandlers,
  type TrainingEvent,
} from '../../src-main/contract';
import { createEngineHost, serveEngine } from '../../src-main/engine/host';
import { createLabHandlers, pgm } from './lab-handlers';

let dir: string;
let ports: MessagePort[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-host-'));
});
afterEach(() => {
  for (const p of ports) p.close();
  ports = [];
  rmSync(dir, { recursive: true, force: true });
});

function pair() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return { engineSide: messagePortTransport(port1 as never), uiSide: messagePortTransport(port2 as never, { transfer: true }), raw: port2 };
}

/** Sends a raw packet and waits for the next message on that port. */
function rawExchange(raw: MessagePort, packet: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    raw.once('message', (m) => resolve(isPacket(m) ? decodePacket(m) : m));
    raw.postMessage(packet);
  });
}

describe('engine host over a MessagePort', () => {
  it('answers requests, moving image bytes and activation arrays as binary', async () => {
    const { engineSide, uiSide } = pair();
    serveEngine(engineSide, createLabHandlers({ runsDir: dir }));
    const client = new EngineClient(uiSide);
    const pixels = Uint8Array.from({ length: 64 }, (_, i) => (i * 29) % 256);
    const data = pgm(8, 8, pixels);
    const reply = await client.call('inspect', { image: { kind: 'bytes', data }, model: { kind: 'zoo', id: 'tiny', overrides: { filters: 3 } }, options: { saliency: true } });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    // Transferred: the sender's copy is detached.
    expect(data.byteLength).toBe(0);
    expect(reply.result.input.data).toEqual(Float32Array.from(pixels, (p) => p / 255));
    expect(reply.result.layers.map((l) => l.output.shape)).toEqual([[6, 6, 3], [3], [2]]);
    expect(reply.result.saliency?.map.shape).toEqual([8, 8]);
    client.close();
  });

  it('runs requests concurrently and keeps serving after a handler throws', async () => {
    const { engineSide, uiSide } = pair();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const lab = createLabHandlers({ runsDir: dir });
    const handlers: EngineHandlers = {
      ...lab,
      listModels: async (params, ctx) => {
        await gate;
        return lab.listModels(params, ctx);
      },
      backendInfo: () => {
        throw new TypeError('probe exploded');
      },
    };
    const internal: string[] = [];
    serveEngine(engineSide, handlers, { onInternalError: (method, err) => internal.push(`${method}: ${(err as Error).message}`) });
    const client = new EngineClient(uiSide);
    const slow = client.call('listModels', {});
    const datasets = await client.call('listDatasets', {});
    expect(datasets.ok && datasets.result.datasets.map((d) => d.id)).toEqual(['synthetic', 'mnist']);
    expect(await client.call('backendInfo', {})).toEqual({ ok: false, error: { code: 'internal', message: 'probe exploded' } });
    expect(internal).toEqual(['backendInfo: probe exploded']);
    release();
    const models = await slow;
    expect(models.ok && models.result.models[0].id).toBe('tiny');
    // A user-facing engine error keeps its message and its own code.
    const bad = await client.call('summary', { model: { kind: 'zoo', id: 'tiny', overrides: { filters: 0 } } });
    expect(bad).toEqual({ ok: false, error: { code: 'user-error', reason: 'bad-override', message: 'filters must be a whole number in [1, 64], got 0' } });
    client.close();
  });

  it('rejects invalid messages on the receiving side with typed errors, never crashing', async () => {
    const { engineSide, raw } = pair();
    serveEngine(engineSide, createLabHandlers({ runsDir: dir }));
    const send = (message: unknown) => rawExchange(raw, encodePacket(message));
    expect(await send({ kind: 'request', id: 1, method: 'summary', params: { model: { kind: 'zoo', id: 'tiny' } } })).toMatchObject({
      kind: 'reply',
      id: 1,
      ok: false,
      error: { code: 'invalid-request', issues: [{ path: 'model.overrides' }] },
    });
    expect(await send({ kind: 'request', id: 2, method: 'rmRf', params: {} })).toMatchObject({ id: 2, ok: false, error: { code: 'unknown-method' } });
    expect(await send({ kind: 'request', id: 3, method: 'listRuns', params: { dir: '', extra: 1 } })).toMatchObject({ id: 3, ok: false, error: { code: 'invalid-request' } });
    expect(await send({ kind: 'request', id: 4, method: 'inspect', params: { image: { kind: 'bytes', data: [1, 2, 3] }, model: { kind: 'zoo', id: 'tiny', overrides: {} } } })).toMatchObject({
      id: 4,
      error: { code: 'invalid-request', issues: [{ path: 'image.data' }] },
    });
    // An invalid id is answered under that id, so the sender can tell which message failed.
    expect(await send({ kind: 'request', id: -5, method: 'listModels', params: {} })).toMatchObject({ id: -5, ok: false, error: { code: 'invalid-request' } });
    expect(await send({ kind: 'request', id: 2.5, method: 'listModels', params: {} })).toMatchObject({ id: 2.5, ok: false, error: { code: 'invalid-request' } });
    expect(await send(null)).toMatchObject({ id: null, ok: false, error: { code: 'invalid-request' } });
    expect(await rawExchange(raw, 'hello')).toMatchObject({ id: null, error: { code: 'invalid-request', message: 'the message is not a packet' } });
    expect(await rawExchange(raw, { meta: { kind: 'request', id: 6, method: 'listModels', params: { $bin: 9, $type: 'Uint8Array' } }, buffers: [] })).toMatchObject({
      id: 6,
      error: { code: 'invalid-request', message: expect.stringMatching(/names no buffer/) },
    });
    // Still serving.
    const reply = await send({ kind: 'request', id: 7, method: 'listModels', params: {} });
    expect(reply).toMatchObject({ id: 7, ok: true });
  });

  it('streams a run: reply first, then events in order, throttled, ending when the run ends', async () => {
    const { engineSide, uiSide } = pair();
    serveEngine(engineSide, createLabHandlers({ runsDir: dir, stepMs: 1 }));
    const client = new EngineClient(uiSide);
    const started = await client.call('startTraining', { config: { model: { id: 'tiny', overrides: {} }, dataset: 'synthetic', batchSize: 16, limit: 320, epochs: 2 } });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const events: TrainingEvent[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void client.subscribe('subscribeRun', { runId: started.result.runId }, { onEvent: (e) => events.push(e), onEnd: resolve });
    });
    const t0 = Date.now();
    expect(await ended).toBeUndefined();
    const seconds = (Date.now() - t0) / 1000;
    const steps = events.flatMap((e) => (e.type === 'batches' ? e.records.map((r) => r.step) : []));
    // Steps in order, none lost, however many arrived in each event.
    expect(steps).toEqual(steps.map((_, i) => steps[0] + i));
    expect(steps.at(-1)).toBe(40);
    expect(events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.record.epoch)).toEqual([1, 2]);
    expect(events.at(-1)).toEqual({ type: 'state', state: 'finished' });
    const batchEvents = events.filter((e) => e.type === 'batches').length;
    expect(batchEvents).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 3);
    client.close();
  });

  it('cancels a subscription on request and serves several ports at once', async () => {
    const host = createEngineHost(createLabHandlers({ runsDir: dir, stepMs: 1 }));
    const a = pair();
    const b = pair();
    host.connect(a.engineSide);
    host.connect(b.engineSide);
    const ca = new EngineClient(a.uiSide);
    const cb = new EngineClient(b.uiSide);
    const started = await ca.call('startTraining', { config: { model: { id: 'tiny', overrides: {} }, dataset: 'synthetic', epochs: 100 } });
    if (!started.ok) throw new Error(started.error.message);
    let count = 0;
    const sub = await cb.subscribe('subscribeRun', { runId: started.result.runId }, { onEvent: () => count++ });
    if (!sub.ok) throw new Error(sub.error.message);
    expect(sub.result.result.runDir).toBe(started.result.runDir);
    await new Promise((r) => setTimeout(r, 300));
    sub.result.close();
    const seen = count;
    expect(seen).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(count).toBe(seen);
    expect(await ca.call('stopTraining', { runId: started.result.runId })).toEqual({ ok: true, result: { runId: started.result.runId, state: 'stopped' } });
    host.close();
    ca.close();
    cb.close();
  });

  it('reports a handler result the contract does not allow as invalid-reply on the calling side', async () => {
    const { engineSide, uiSide } = pair();
    const lab = createLabHandlers({ runsDir: dir });
    serveEngine(engineSide, { ...lab, kernels: () => ({ layers: [{ layer: 'conv1', kernel: { dtype: 'float32', shape: [3, 3, 1, 2], data: new Float32Array(5) } }] }) });
    const client = new EngineClient(uiSide);
    const reply = await client.call('kernels', { model: { kind: 'zoo', id: 'tiny', overrides: {} } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid-reply', message: expect.stringMatching(/5 values, its shape \[3,3,1,2\] needs 18/) } });
    writeFileSync(path.join(dir, 'broken.json'), '{');
    expect(await client.call('openModel', { path: path.join(dir, 'broken.json') })).toMatchObject({ ok: false, error: { code: 'internal' } });
    client.close();
  });
});
