// `convscope serve` against hostile clients: frames that are not messages, ids that are not ids, broken
// WebSocket framing, malformed URLs, a client that never reads, an engine that keeps dying. The host must
// answer or close that one client, and go on serving the others.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { connect as netConnect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { decodeIncoming, decodePacket, encodeFrame, encodePacket, ServerMessageSchema, type ServerMessage } from '../../src-main/contract';
import { startWebHost, type WebHost } from '../../src-main/web/server';
import { CLI_BIN } from '../cli/run-cli';
import { frameBytes, openRawSocket, type RawFrame } from './raw-socket';
import * as v from 'valibot';

// The host under attack is a real `convscope serve` process, started from a folder outside the package
// (so its engine must find tsx from the package, not the cwd): an uncaught error would end it.
let served: ChildProcess;
let host: { port: number; token: string };
let tmp: string;
let sentinel: WebSocket;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-hostile-'));
  const renderer = path.join(tmp, 'renderer');
  await mkdir(renderer);
  await writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>ConvScope</title>');
  await writeFile(path.join(tmp, 'secret.txt'), 'not for the browser');
  served = spawn(process.execPath, [CLI_BIN, 'serve', '--runs', path.join(tmp, 'runs'), '--renderer', renderer, '--backend', 'cpu'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  served.stderr!.resume();
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    served.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /serving at (\S+)/.exec(out);
      if (match) resolve(new URL(match[1]));
    });
    served.once('exit', (code) => reject(new Error(`convscope serve exited (${code}) before serving`)));
  });
  host = { port: Number(url.port), token: url.searchParams.get('token')! };
  sentinel = await connect();
}, 120_000);

afterAll(async () => {
  if (served?.exitCode === null) {
    const exited = new Promise((resolve) => served.once('exit', resolve));
    served.kill('SIGTERM');
    await exited;
  }
}, 30_000);

function connect(token = host.token, port = host.port): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(token)}`, { origin: `http://127.0.0.1:${port}` });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function parse(data: Buffer, isBinary: boolean): ServerMessage {
  const packet = decodeIncoming(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
  if ('undecodable' in packet) throw new Error(`the host sent an undecodable frame: ${packet.undecodable}`);
  return v.parse(ServerMessageSchema, decodePacket(packet));
}

type Reply = Extract<ServerMessage, { kind: 'reply' }>;

/** Sends raw frames and collects the next `count` replies. */
function exchange(ws: WebSocket, frames: (string | Uint8Array)[], count = frames.length): Promise<Reply[]> {
  return new Promise((resolve) => {
    const replies: Reply[] = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const msg = parse(data, isBinary);
      if (msg.kind !== 'reply') return;
      replies.push(msg);
      if (replies.length === count) {
        ws.off('message', onMessage);
        resolve(replies);
      }
    };
    ws.on('message', onMessage);
    for (const frame of frames) ws.send(frame);
  });
}

let nextId = 1000;
/** The host process runs, the socket is open and a request on it is answered. */
async function alive(ws: WebSocket = sentinel): Promise<void> {
  expect(served.exitCode).toBeNull();
  expect(ws.readyState).toBe(WebSocket.OPEN);
  const id = nextId++;
  const reply = await new Promise<ServerMessage>((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const msg = parse(data, isBinary);
      if (msg.kind === 'reply' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ kind: 'request', id, method: 'listModels', params: {} }));
  });
  expect(reply).toMatchObject({ id, ok: true });
}

/** A binary frame with `header` as its JSON header and no buffers. */
function binaryFrame(header: unknown, extra = new Uint8Array()): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const frame = new Uint8Array(Math.ceil((4 + json.length) / 8) * 8 + extra.length);
  new DataView(frame.buffer).setUint32(0, json.length, true);
  frame.set(json, 4);
  frame.set(extra, frame.length - extra.length);
  return frame;
}

describe('convscope serve: one frame does not take it down', () => {
  it('runs its engine though started from a folder where tsx does not resolve', async () => {
    expect(() => createRequire(path.join(tmp, 'here.js')).resolve('tsx')).toThrow();
    await alive();
  }, 60_000);

  it('answers null and other non-messages, as text or as a binary header, with invalid-request', async () => {
    const ws = await connect();
    const frames = ['null', '42', '"request"', '[]', 'true', '{"kind":null}', binaryFrame(null), binaryFrame({ m: null, b: [] }), binaryFrame({ m: [], b: [] })];
    const replies = await exchange(ws, frames);
    for (const reply of replies) expect(reply).toMatchObject({ kind: 'reply', id: null, ok: false, error: { code: 'invalid-request' } });
    await alive(ws);
    await alive();
    ws.close();
  }, 60_000);

  it('answers a negative or fractional id under that id, and refuses a duplicate id in flight while answering the first', async () => {
    const ws = await connect();
    const [negative, fractional] = await exchange(ws, [
      JSON.stringify({ kind: 'request', id: -1, method: 'listModels', params: {} }),
      JSON.stringify({ kind: 'request', id: 1.5, method: 'listModels', params: {} }),
    ]);
    expect(negative).toMatchObject({ id: -1, ok: false, error: { code: 'invalid-request' } });
    expect(fractional).toMatchObject({ id: 1.5, ok: false, error: { code: 'invalid-request' } });
    // Both in one TCP write, so the second surely arrives while the first is in flight.
    const raw = await openRawSocket(host.port, host.token);
    const summary = frameBytes({ opcode: 1, payload: new TextEncoder().encode(JSON.stringify({ kind: 'request', id: 77, method: 'summary', params: { model: { kind: 'zoo', id: 'lenet5', overrides: {} } } })) });
    raw.socket.write(Buffer.concat([summary, summary]));
    await expect.poll(() => raw.frames.length, { timeout: 20_000 }).toBe(2);
    const both = raw.frames.map((f) => v.parse(ServerMessageSchema, JSON.parse(f.payload.toString())) as Reply);
    raw.socket.destroy();
    expect(both.map((r) => r.id)).toEqual([77, 77]);
    expect(both.find((r) => !r.ok)).toMatchObject({ error: { code: 'invalid-request', message: expect.stringMatching(/already in use/) } });
    expect(both.find((r) => r.ok)).toMatchObject({ result: { totalParams: 44_426 } });
    ws.close();
  }, 60_000);

  it('refuses requests beyond 256 in flight on one connection, answering every one', async () => {
    const raw = await openRawSocket(host.port, host.token);
    const count = 400;
    const frames = Array.from({ length: count }, (_, i) =>
      frameBytes({ opcode: 1, payload: new TextEncoder().encode(JSON.stringify({ kind: 'request', id: i + 1, method: 'listModels', params: {} })) }),
    );
    raw.socket.write(Buffer.concat(frames));
    await expect.poll(() => raw.frames.length, { timeout: 30_000 }).toBe(count);
    const replies = raw.frames.map((f) => JSON.parse(f.payload.toString()) as Reply);
    expect(new Set(replies.map((r) => r.id)).size).toBe(count);
    const refused = replies.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r).toMatchObject({ error: { code: 'invalid-request', message: expect.stringMatching(/256 requests are already in flight/) } });
    raw.socket.destroy();
    await alive();
  }, 60_000);

  it("names the request's id in the error reply to a broken binary frame wherever the id was readable", async () => {
    const ws = await connect();
    const request = (id: number) => ({ kind: 'request', id, method: 'listModels', params: {} });
    const replies = await exchange(ws, [
      binaryFrame({ m: { ...request(11), params: { $bin: 3, $type: 'Uint8Array' } }, b: [] }),
      binaryFrame({ m: request(12), b: 'not a list' }),
      binaryFrame({ m: request(13), b: [1e6] }),
      binaryFrame({ m: request(14), b: [-1] }),
      binaryFrame({ m: { ...request(15), params: { $bin: 0, $type: 'Float32Array' } }, b: [3] }, new Uint8Array(8)),
    ]);
    expect(replies.map((r) => r.id)).toEqual([11, 12, 13, 14, 15]);
    for (const reply of replies) expect(reply).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    ws.close();
  }, 60_000);

  it('survives a bounded fuzz: random frames and mutations of valid ones, every reply a well-formed message', async () => {
    const ws = await connect();
    let seed = 17;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = (n: number) => Math.floor(random() * n);
    const valid = [
      encodeFrame(encodePacket({ kind: 'request', id: 5, method: 'inspect', params: { image: { kind: 'bytes', data: new Uint8Array(16) }, model: { kind: 'zoo', id: 'lenet5', overrides: {} } } })) as Uint8Array,
      new TextEncoder().encode(JSON.stringify({ kind: 'request', id: 6, method: 'openRun', params: { runDir: path.join(tmp, 'secret.txt') } })),
    ];
    const frames: (string | Uint8Array)[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = pick(4);
      if (kind === 0) frames.push(Uint8Array.from({ length: pick(64) }, () => pick(256)));
      else if (kind === 1) frames.push(String.fromCharCode(...Array.from({ length: pick(40) }, () => 32 + pick(95))));
      else {
        const template = pick(valid.length);
        const bytes = Uint8Array.from(valid[template]);
        for (let m = 0; m < 1 + pick(4); m++) bytes[pick(bytes.length)] = pick(256);
        const cut = kind === 3 ? bytes.subarray(0, pick(bytes.length)) : bytes;
        frames.push(template === 0 ? cut : new TextDecoder().decode(cut));
      }
    }
    const received: ServerMessage[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => received.push(parse(data, isBinary)));
    for (const frame of frames) ws.send(frame);
    await alive(ws);
    expect(received.length).toBeGreaterThan(100);
    expect(received.filter((m) => m.kind === 'reply' && m.ok && m.id === 6)).toEqual([]);
    await alive();
    ws.close();
  }, 120_000);
});

describe('convscope serve: malformed URLs', () => {
  function get(pathname: string): Promise<{ status: number; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: host.port, path: pathname, headers: { host: `127.0.0.1:${host.port}` } }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      });
      req.on('error', reject).end();
    });
  }

  it('answers bad percent-encoding with 400 and the security headers', async () => {
    for (const url of ['/%', '/%c0%ae%c0%ae/secret.txt', '/%ff', '/a%2']) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(String(res.headers['content-security-policy']), url).toMatch(/default-src 'self'/);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });
});

describe('convscope serve: broken WebSocket framing closes that socket alone', () => {
  const cases: [string, RawFrame, number][] = [
    ['a header claiming 600 MiB (over maxPayload)', { opcode: 2, claimedLength: 600 * 2 ** 20 }, 1009],
    ['a text frame that is not UTF-8', { opcode: 1, payload: Uint8Array.from([0x7b, 0xc0, 0xae, 0xff, 0x7d]) }, 1007],
    ['an unmasked client frame', { opcode: 1, payload: new TextEncoder().encode('{}'), mask: false }, 1002],
    ['reserved opcode 0x3', { opcode: 3, payload: new Uint8Array(2) }, 1002],
    ['RSV1 without permessage-deflate', { opcode: 1, rsv1: true, payload: new TextEncoder().encode('{}') }, 1002],
    ['a close frame with code 1005', { opcode: 8, payload: Uint8Array.from([0x03, 0xed]) }, 1002],
    ['a fragmented ping', { opcode: 9, fin: false, payload: new Uint8Array(1) }, 1002],
  ];

  it.each(cases)('%s: closed with the right code, every other client served', async (_name, frame, code) => {
    const raw = await openRawSocket(host.port, host.token);
    raw.socket.write(frameBytes(frame));
    await raw.ended;
    expect(raw.closeCode()).toBe(code);
    await alive();
  }, 30_000);

  it('survives clients that reset the connection in the middle of a refused upgrade', async () => {
    for (let i = 0; i < 30; i++) {
      const socket = netConnect(host.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(`GET /ws?token=x HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      if (i % 2) await new Promise((resolve) => setImmediate(resolve));
      socket.resetAndDestroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await alive();
  }, 30_000);

  it('closes a socket with a wrong token with 4401 (the UI says "token refused" and does not retry)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=wrong`, { origin: `http://127.0.0.1:${host.port}` });
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect(code).toBe(4401);
    await alive();
  }, 15_000);
});

// A host in this process, for what needs its settings (small reply buffers) or its engine's pid.
describe('convscope serve: limits', () => {
  let local: WebHost;
  let client: WebSocket;
  beforeAll(async () => {
    local = await startWebHost({
      rendererDir: path.join(tmp, 'renderer'),
      runsDir: path.join(tmp, 'runs'),
      backend: 'cpu',
      // A folder literally named '~' in the cwd: once what the host checked for 'folder:~/...' (the engine reads $HOME).
      openFolders: [path.join(process.cwd(), '~')],
      pauseBufferedBytes: 64 * 1024,
      maxBufferedBytes: 256 * 1024,
      log: () => undefined,
    });
    client = await connect(local.token, local.port);
  }, 120_000);
  afterAll(async () => {
    await local?.close();
  });

  it('checks folder:~ and folder:~/ds where the engine reads them, in the home folder', async () => {
    const model = { kind: 'zoo', id: 'lenet5', overrides: {} };
    const replies = await exchange(client, [
      JSON.stringify({ kind: 'request', id: 21, method: 'evaluate', params: { model, dataset: 'folder:~' } }),
      JSON.stringify({ kind: 'request', id: 22, method: 'examples', params: { model, dataset: 'folder:~/ds', split: 'test', indices: [0] } }),
    ]);
    expect(replies).toMatchObject([
      { id: 21, ok: false, error: { code: 'forbidden', message: expect.stringMatching(new RegExp(`^${os.homedir()} is outside`)) } },
      { id: 22, ok: false, error: { code: 'forbidden', message: expect.stringContaining(path.join(os.homedir(), 'ds')) } },
    ]);
  }, 30_000);

  it('stops reading its requests, then closes it with 1013, without its replies piling up in the host', async () => {
    const listModels = (id: number) => frameBytes({ opcode: 1, payload: new TextEncoder().encode(JSON.stringify({ kind: 'request', id, method: 'listModels', params: {} })) });
    const replyBytes = await new Promise<number>((resolve) => {
      client.once('message', (data: Buffer) => resolve(data.length));
      client.send(JSON.stringify({ kind: 'request', id: nextId++, method: 'listModels', params: {} }));
    });
    // Far more than the socket buffers of both kernels hold (a few MiB), so what the host kept back shows.
    const count = 6000;
    const raw = await openRawSocket(local.port, local.token);
    raw.socket.pause();
    // In waves, each within the in-flight limit, so the engine answers them all unless the host stops reading.
    for (let wave = 0; wave < count / 200; wave++) {
      await new Promise<void>((resolve) => raw.socket.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => listModels(wave * 200 + i + 1))), () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await alive(client);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    raw.socket.resume();
    const total = count * replyBytes;
    await Promise.race([raw.ended, expect.poll(() => raw.received(), { timeout: 30_000 }).toBeGreaterThanOrEqual(total)]);
    expect(raw.closeCode()).toBe(1013);
    expect(raw.received()).toBeLessThan(total / 2);
    await alive(client);
  }, 90_000);

  it('answers engine-unavailable at once on open and new sockets after four deaths in a minute', async () => {
    const notices: string[] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => {
      const msg = parse(data, isBinary);
      if (msg.kind === 'notice') notices.push(msg.notice.type);
    });
    for (let death = 1; death <= 4; death++) {
      process.kill(local.engine.pid!, 'SIGKILL');
      await expect.poll(() => notices.length, { timeout: 20_000 }).toBe(death);
    }
    expect(notices).toEqual(['engine-restarted', 'engine-restarted', 'engine-restarted', 'engine-unavailable']);
    const request = (id: number) => JSON.stringify({ kind: 'request', id, method: 'listModels', params: {} });
    const started = Date.now();
    const [old] = await exchange(client, [request(1)]);
    expect(old).toMatchObject({ id: 1, ok: false, error: { code: 'engine-unavailable' } });
    const fresh = await connect(local.token, local.port);
    const [answer] = await exchange(fresh, [request(2)]);
    expect(answer).toMatchObject({ id: 2, ok: false, error: { code: 'engine-unavailable' } });
    expect(Date.now() - started).toBeLessThan(5000);
    fresh.close();
  }, 60_000);
});
