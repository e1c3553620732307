// Every request of the contract through both hosts' transports, served by the engine host with the lab
// handlers: a real WebSocket on 127.0.0.1 (binary frames for arrays; the web host's) and a MessagePort
// pair (Node's, standing in for the Electron MessagePortMain pair main hands the window and the engine).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  createEngineApi,
  EngineClient,
  messagePortTransport,
  webSocketTransport,
  type EngineApi,
  type Reply,
  type RunStateEvent,
  type TrainingEvent,
} from '../../src-main/contract';
import { serveEngine } from '../../src-main/engine/host';
import { createLabHandlers, pgm, syntheticPixels } from './lab-handlers';

let root: string;
const engines = new AbortController();

function ok<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result;
}

async function until(what: string, test: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'convscope-transports-'));
});

afterAll(() => {
  engines.abort();
  rmSync(root, { recursive: true, force: true });
});

type Connection = { api: EngineApi; close(): Promise<void> };
const handlers = (dir: string) => createLabHandlers({ runsDir: path.join(dir, 'runs'), stepMs: 2, signal: engines.signal });

async function overWebSocket(dir: string): Promise<Connection> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (socket) => serveEngine(webSocketTransport(socket as never), handlers(dir)));
  const client = new EngineClient(webSocketTransport(new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`) as never));
  const close = async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { api: createEngineApi(client), close };
}

async function overMessagePort(dir: string): Promise<Connection> {
  const { port1, port2 } = new MessageChannel();
  serveEngine(messagePortTransport(port1 as never), handlers(dir));
  const client = new EngineClient(messagePortTransport(port2 as never, { transfer: true }));
  const close = async () => {
    client.close();
    port1.close();
    port2.close();
  };
  return { api: createEngineApi(client), close };
}

describe.each([
  ['a WebSocket', overWebSocket],
  ['a MessagePort pair', overMessagePort],
] as const)('the contract over %s', (name, connect) => {
  let dir: string;
  let api: EngineApi;
  let connection: Connection;
  beforeAll(async () => {
    dir = path.join(root, name.replace(/\W+/g, '-'));
    mkdirSync(dir, { recursive: true });
    connection = await connect(dir);
    api = connection.api;
  });
  afterAll(async () => {
    await connection.close();
  });

  const tiny = (filters = 2) => ({ kind: 'zoo' as const, id: 'tiny', overrides: { filters } });

    it('models: listModels, summary, openModel', async () => {
      expect(ok(await api.listModels({})).models.map((m) => m.id)).toEqual(['tiny']);
      expect(ok(await api.summary({ model: tiny(5) })).totalParams).toBe(10 * 5 + 2 * 5 + 2);
      const file = path.join(dir, 'my-model.json');
      writeFileSync(file, JSON.stringify({ model: 'tiny', overrides: { filters: 3 } }));
      const opened = ok(await api.openModel({ path: file }));
      expect(opened.ref).toEqual({ kind: 'file', path: file });
      expect(opened.summary.layers[0].outputShape).toEqual([null, 6, 6, 3]);
    });

    it('inspect: image bytes up, Float32 activations and maps down, bit-exact', async () => {
      const pixels = Uint8Array.from({ length: 100 }, (_, i) => (i * 53 + 7) % 256);
      const fromBytes = ok(await api.inspect({ image: { kind: 'bytes', data: pgm(10, 10, pixels) }, model: tiny(4), options: { saliency: true, gradCam: true } }));
      expect(fromBytes.input.data).toEqual(Float32Array.from(pixels, (p) => p / 255));
      const conv = fromBytes.layers[0].output;
      expect(conv.shape).toEqual([8, 8, 4]);
      // The same computation here, compared bit for bit.
      const k = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i + 1));
      const x = Float32Array.from(pixels, (p) => p / 255);
      const expected = new Float32Array(8 * 8 * 4);
      for (let y = 0; y < 8; y++)
        for (let xx = 0; xx < 8; xx++)
          for (let f = 0; f < 4; f++) {
            let s = 0;
            for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) s += x[(y + dy) * 10 + xx + dx] * k[(dy * 3 + dx) * 4 + f];
            expected[(y * 8 + xx) * 4 + f] = Math.max(0, s);
          }
      expect(new Uint32Array(conv.data.buffer, conv.data.byteOffset, conv.data.length)).toEqual(new Uint32Array(expected.buffer));
      expect(fromBytes.saliency?.map.shape).toEqual([10, 10]);
      expect(fromBytes.gradCam?.upsampled.shape).toEqual([10, 10]);
      const image = path.join(dir, 'digit.pgm');
      writeFileSync(image, pgm(10, 10, pixels));
      const fromPath = ok(await api.inspect({ image: { kind: 'path', path: image }, model: tiny(4), options: { layers: ['logits'] } }));
      expect(fromPath.layers.map((l) => l.name)).toEqual(['logits']);
      expect(fromPath.predictions).toEqual(fromBytes.predictions);
    });

    it('kernels, deadRelu, evaluate, examples, backendInfo, listDatasets, appDefaults', async () => {
      const kernels = ok(await api.kernels({ model: tiny(3), layer: 'conv1' }));
      expect(kernels.layers[0].kernel.data).toEqual(Float32Array.from({ length: 27 }, (_, i) => Math.sin(i + 1)));
      expect(await api.kernels({ model: tiny(3), layer: 'conv9' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      const dead = ok(await api.deadRelu({ model: tiny(6), probeSize: 8 }));
      expect(dead.layers[0].deadFraction).toBeInstanceOf(Float32Array);
      expect(dead.layers[0].deadFraction).toHaveLength(6);
      const evaluation = ok(await api.evaluate({ model: tiny(2), dataset: 'synthetic', limit: 12 }));
      expect(evaluation.confusion.dtype).toBe('uint32');
      expect([...evaluation.confusion.data].reduce((a, b) => a + b, 0)).toBe(12);
      expect(evaluation.labels).toEqual(Int32Array.from({ length: 12 }, (_, i) => i % 2));
      expect(await api.evaluate({ model: tiny(2), dataset: 'imagenet' })).toMatchObject({ ok: false, error: { code: 'user-error', reason: 'unknown-dataset' } });
      // A confusion cell's examples as pixels: uint8 images in the order asked, with their labels.
      const cell = ok(await api.examples({ model: tiny(2), split: 'test', indices: [5, 0, 5] }));
      expect(cell.images.dtype).toBe('uint8');
      expect(cell.images.shape).toEqual([3, 8, 8, 1]);
      expect(cell.images.data).toBeInstanceOf(Uint8Array);
      expect([...cell.images.data]).toEqual([...syntheticPixels(5), ...syntheticPixels(0), ...syntheticPixels(5)]);
      expect(cell.labels).toEqual(Int32Array.from([1, 0, 1]));
      expect(await api.examples({ model: tiny(2), split: 'test', indices: [] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
      expect(ok(await api.backendInfo({})).chosen).toBe('cpu');
      expect(ok(await api.listDatasets({})).datasets.find((d) => d.id === 'mnist')?.available).toBe(false);
      expect(ok(await api.appDefaults({})).samples.map((x) => x.name)).toEqual(['ramp.pgm']);
    });

    it('training: start, watch, subscribe, pause, resume, stop, list, open, timeline, resume a run', async () => {
      const watched: RunStateEvent[] = [];
      const watch = ok(await api.watchRuns({}, (e) => watched.push(e)));
      const run = ok(await api.startTraining({ config: { model: { id: 'tiny', overrides: { filters: 2 } }, dataset: 'synthetic', epochs: 200, batchSize: 16, limit: 32 } }));
      const events: TrainingEvent[] = [];
      const sub = ok(await api.subscribeRun({ runId: run.runId }, (e) => events.push(e)));
      expect(sub.result.runDir).toBe(run.runDir);
      await until('batch events', () => events.some((e) => e.type === 'batches'));
      expect(ok(await api.pauseTraining({ runId: run.runId })).state).toBe('paused');
      expect(ok(await api.resumeTraining({ runId: run.runId })).state).toBe('running');
      await until('a checkpoint', () => existsSync(path.join(run.runDir, 'checkpoint.json')));
      expect(ok(await api.stopTraining({ runId: run.runId })).state).toBe('stopped');
      await until('the stop event', () => events.some((e) => e.type === 'state' && e.state === 'stopped'));
      expect(events.filter((e) => e.type === 'state').map((e) => e.type === 'state' && e.state)).toEqual(['paused', 'running', 'stopped']);
      expect(watched.map((e) => e.state)).toEqual(['running', 'paused', 'running', 'stopped']);
      const epochsDone = events.filter((e) => e.type === 'epoch').length;
      expect(epochsDone).toBeGreaterThan(0);

      const listed = ok(await api.listRuns({}));
      expect(listed.runs.map((r) => [r.runDir, r.status.state])).toEqual([[run.runDir, 'stopped']]);
      const detail = ok(await api.openRun({ runDir: run.runDir }));
      expect(detail.batches.step).toBeInstanceOf(Int32Array);
      expect(detail.batches.step.length).toBe(detail.batches.loss.length);
      expect(detail.batches.loss[0]).toBe(Math.fround(1));
      expect(detail.hasCheckpoint).toBe(true);
      const timeline = ok(await api.kernelTimeline({ runDir: run.runDir, layer: 'conv1', snapshot: 2 }));
      expect(timeline.norms.shape).toEqual([4, 2]);
      expect(timeline.snapshot).toEqual({ index: 2, step: 20, epoch: 1 });

      const again = ok(await api.resumeRun({ runDir: run.runDir }));
      expect(again.runDir).toBe(run.runDir);
      expect(again.runId).not.toBe(run.runId);
      ok(await api.stopTraining({ runId: again.runId }));
      sub.close();
      watch.close();
    });

    it('refuses params that break the contract before they leave, and the engine refuses them too', async () => {
      expect(await api.summary({ model: { kind: 'zoo', id: '', overrides: {} } })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
      expect(await api.pauseTraining({ runId: 'run-999' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    });
});
