import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { decodeIncoming, decodePacket, encodeFrame, encodePacket, type ServerMessage } from '../../src-main/contract';
import { startWebHost, type WebHost } from '../../src-main/web/server';

let host: WebHost;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-web-'));
  const renderer = path.join(tmp, 'renderer');
  await mkdir(renderer);
  await writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>ConvScope</title>');
  await writeFile(path.join(tmp, 'secret.txt'), 'not for the browser');
  host = await startWebHost({ rendererDir: renderer, runsDir: path.join(tmp, 'runs'), backend: 'cpu', log: () => undefined });
}, 120_000);

afterAll(async () => {
  await host?.close();
});

function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path: pathname, headers: { host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject).end();
  });
}

function connect(opts: { token?: string; origin?: string; hostHeader?: string } = {}): Promise<WebSocket> {
  const token = opts.token ?? host.token;
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${encodeURIComponent(token)}`, {
    origin: opts.origin ?? `http://127.0.0.1:${host.port}`,
    headers: opts.hostHeader ? { host: opts.hostHeader } : {},
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('close', (code: number) => reject(new Error(`closed: ${code}`)));
    ws.once('error', reject);
  });
}

let nextId = 1;
function call(ws: WebSocket, method: string, params: unknown): Promise<ServerMessage> {
  const id = nextId++;
  return new Promise((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean) => {
      const packet = decodeIncoming(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
      if ('undecodable' in packet) return;
      const msg = decodePacket(packet) as ServerMessage;
      if (msg.kind === 'reply' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(encodeFrame(encodePacket({ kind: 'request', id, method, params })));
  });
}

describe('convscope serve: security', () => {
  it('serves the page with a CSP and without the token in it', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain(host.token);
    expect(String(page.headers['content-security-policy'])).toMatch(/script-src 'self'/);
  });

  it('refuses a foreign Host header (DNS rebinding) and paths outside the renderer', async () => {
    expect((await get('/', { host: `evil.example:${host.port}` })).status).toBe(421);
    expect((await get('/../secret.txt')).body).not.toContain('not for the browser');
    const encoded = await get('/%2e%2e/secret.txt');
    expect([403, 404]).toContain(encoded.status);
    expect(encoded.body).not.toContain('not for the browser');
  });

  it('refuses a WebSocket without the token, with a wrong one, from a foreign Origin or Host', async () => {
    const refused = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    expect(await refused(await connect({ token: '' }))).toBe(4401);
    expect(await refused(await connect({ token: host.token.slice(0, -1) + 'x' }))).toBe(4401);
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect({ hostHeader: `evil.example:${host.port}` })).rejects.toThrow(/421/);
  });

  it('refuses to listen beyond loopback without --allow-remote', async () => {
    await expect(startWebHost({ host: '0.0.0.0', rendererDir: tmp, runsDir: tmp })).rejects.toThrow(/--allow-remote/);
  });
});

describe('convscope serve: the contract over the socket', () => {
  it('answers requests from the real engine in its child process', async () => {
    const ws = await connect();
    const summary = await call(ws, 'summary', { model: { kind: 'zoo', id: 'lenet5', overrides: {} } });
    expect(summary).toMatchObject({ kind: 'reply', ok: true });
    expect((summary as { result: { totalParams: number } }).result.totalParams).toBe(44_426);
    const info = await call(ws, 'backendInfo', {});
    expect(info).toMatchObject({ ok: true });
    expect(JSON.stringify(info)).toContain('"chosen":"cpu"');
    ws.close();
  }, 120_000);

  it('refuses a path outside the opened folders, and an invalid request, with typed errors', async () => {
    const ws = await connect();
    const outside = await call(ws, 'openRun', { runDir: path.join(tmp, 'secret.txt') });
    expect(outside).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const inside = await call(ws, 'openRun', { runDir: path.join(tmp, 'runs', 'nope') });
    expect(inside).toMatchObject({ ok: false });
    expect((inside as { error: { code: string } }).error.code).not.toBe('forbidden');
    const invalid = await call(ws, 'summary', { model: { kind: 'zoo' } });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    ws.close();
  }, 60_000);

  it('restarts a killed engine process, says so, and serves the next request', async () => {
    const ws = await connect();
    const notices: unknown[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const p = decodeIncoming(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
      if (!('undecodable' in p)) {
        const m = decodePacket(p) as ServerMessage;
        if (m.kind === 'notice') notices.push(m.notice);
      }
    });
    const before = host.engine.pid!;
    process.kill(before, 'SIGKILL');
    await expect.poll(() => notices.length, { timeout: 20_000 }).toBe(1);
    expect(notices[0]).toMatchObject({ type: 'engine-restarted' });
    expect(host.engine.pid).not.toBe(before);
    const again = await call(ws, 'listModels', {});
    expect(again).toMatchObject({ ok: true });
    ws.close();
  }, 120_000);
});
