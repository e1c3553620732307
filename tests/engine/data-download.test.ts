// downloadFile against a local HTTP server on 127.0.0.1 that serves good, corrupt, cut-off, stalling and
// Range-ignoring files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile, type DownloadProgress } from '../../src-main/engine/data/download';
import { downloadFashionMnist, FASHION_MNIST_FILES } from '../../src-main/engine/data/fashion-mnist';

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 2654435761) >>> 24));
const md5 = createHash('md5').update(content).digest('hex');
const sha256 = createHash('sha256').update(content).digest('hex');

interface Seen {
  path: string;
  range: string | undefined;
}
let seen: Seen[] = [];
let server: http.Server;
let base: string;
const dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-download-'));

/** Serves `body` honouring Range like a static file server. */
function serve(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, honourRange = true): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (honourRange && range) {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length }).end(body);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    seen.push({ path: url, range: req.headers.range });
    const times = seen.filter((s) => s.path === url).length;
    if (url === '/good.bin') return serve(req, res, content);
    if (url === '/corrupt.bin') {
      const bad = Buffer.from(content);
      bad[1234] ^= 0xff;
      return serve(req, res, bad);
    }
    if (url === '/cut-once.bin' && times === 1) {
      // Announces the whole file, sends 100,000 bytes, then drops the connection.
      res.writeHead(200, { 'Content-Length': content.length });
      res.write(content.subarray(0, 100_000), () => res.destroy());
      return;
    }
    if (url === '/cut-once.bin') return serve(req, res, content);
    if (url === '/stall-once.bin' && times === 1) {
      res.writeHead(200, { 'Content-Length': content.length });
      res.write(content.subarray(0, 50_000)); // ... and nothing more, connection left open
      return;
    }
    if (url === '/stall-once.bin') return serve(req, res, content);
    if (url === '/no-range.bin') return serve(req, res, content, false);
    if (url.startsWith('/fashion/')) return serve(req, res, Buffer.from(`not really ${url}`));
    res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
let dest: string;
beforeEach(() => {
  seen = [];
  dest = path.join(dir, `case-${++n}`, 'file.bin');
});

describe('downloadFile', () => {
  it('downloads, checks md5 and sha256, reports progress and leaves no .part', async () => {
    const progress: DownloadProgress[] = [];
    const result = await downloadFile({ url: `${base}/good.bin`, dest, md5, sha256, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ path: dest, cached: false, resumedFrom: 0, bytes: content.length });
    expect(readFileSync(dest).equals(content)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(progress[0].received).toBe(0);
    expect(progress.at(-1)).toEqual({ url: `${base}/good.bin`, received: content.length, total: content.length });
    expect(progress.every((p, i) => i === 0 || p.received >= progress[i - 1].received)).toBe(true);
  });

  it('does not download a file that is already in place with the right checksum', async () => {
    await downloadFile({ url: `${base}/good.bin`, dest, md5 });
    seen = [];
    const again = await downloadFile({ url: `${base}/good.bin`, dest, md5 });
    expect(again.cached).toBe(true);
    expect(seen).toEqual([]);
  });

  it('replaces a file in place whose checksum is wrong', async () => {
    await downloadFile({ url: `${base}/good.bin`, dest, md5 });
    writeFileSync(dest, 'damaged');
    const result = await downloadFile({ url: `${base}/good.bin`, dest, md5 });
    expect(result.cached).toBe(false);
    expect(readFileSync(dest).equals(content)).toBe(true);
  });

  it('deletes a corrupt download and says which checksum failed', async () => {
    const error = await failure(downloadFile({ url: `${base}/corrupt.bin`, dest, md5 }));
    expect(error.code).toBe('checksum-mismatch');
    expect(error.message).toMatch(new RegExp(`^download of ${base}/corrupt.bin is corrupt: md5 [0-9a-f]{32}, expected ${md5}; the file was deleted`));
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
    await expect(downloadFile({ url: `${base}/corrupt.bin`, dest, sha256 })).rejects.toThrow(`expected ${sha256}`);
  });

  it('keeps the .part of an interrupted download and resumes it with a Range request', async () => {
    const url = `${base}/cut-once.bin`;
    const error = await failure(downloadFile({ url, dest, md5, retries: 0 }));
    expect(error.code).toBe('download-failed');
    expect(error.message).toContain(`download of ${url} interrupted`);
    expect(error.message).toContain(`100000 bytes kept in ${dest}.part, run it again to resume`);
    expect(statSync(`${dest}.part`).size).toBe(100_000);
    expect(existsSync(dest)).toBe(false);

    const progress: DownloadProgress[] = [];
    const result = await downloadFile({ url, dest, md5, onProgress: (p) => progress.push(p) });
    expect(result.resumedFrom).toBe(100_000);
    expect(seen.at(-1)).toEqual({ path: '/cut-once.bin', range: 'bytes=100000-' });
    expect(progress[0]).toEqual({ url, received: 100_000, total: content.length });
    expect(readFileSync(dest).equals(content)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('resumes by itself within one call when the connection breaks', async () => {
    const result = await downloadFile({ url: `${base}/cut-once.bin`, dest, md5 });
    expect(seen.map((s) => s.range)).toEqual([undefined, 'bytes=100000-']);
    expect(result.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(content)).toBe(true);
  });

  it('gives up on a stalled transfer after the idle timeout and resumes', async () => {
    const result = await downloadFile({ url: `${base}/stall-once.bin`, dest, md5, idleTimeoutMs: 300 });
    expect(result.bytes).toBe(content.length);
    expect(seen.map((s) => s.range)).toEqual([undefined, 'bytes=50000-']);
    expect(readFileSync(dest).equals(content)).toBe(true);
  });

  it('starts over when the server ignores the Range header (stale .part)', async () => {
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(`${dest}.part`, Buffer.alloc(1000, 7));
    const result = await downloadFile({ url: `${base}/no-range.bin`, dest, md5 });
    expect(seen.at(-1)?.range).toBe('bytes=1000-');
    expect(result.bytes).toBe(content.length);
    expect(readFileSync(dest).equals(content)).toBe(true);
  });

  it('finishes from a complete .part when the server answers 416', async () => {
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(`${dest}.part`, content);
    const result = await downloadFile({ url: `${base}/good.bin`, dest, md5 });
    expect(seen.at(-1)?.range).toBe(`bytes=${content.length}-`);
    expect(result).toMatchObject({ cached: false, resumedFrom: content.length, bytes: content.length });
    expect(readFileSync(dest).equals(content)).toBe(true);
  });

  it('reports HTTP errors, unreachable servers and a missing checksum clearly', async () => {
    await expect(downloadFile({ url: `${base}/nothing.bin`, dest, md5 })).rejects.toThrow(`download of ${base}/nothing.bin failed: HTTP 404 Not Found`);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(downloadFile({ url: `http://127.0.0.1:${port}/x`, dest, md5 })).rejects.toThrow(/failed: cannot reach the server \(ECONNREFUSED\)/);
    await expect(downloadFile({ url: `${base}/good.bin`, dest })).rejects.toMatchObject({ code: 'bad-argument' });
  });

  it('stops when cancelled and keeps what it has', async () => {
    const controller = new AbortController();
    const error = await failure(
      downloadFile({
        url: `${base}/good.bin`,
        dest,
        md5,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.received > 0) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('download-failed');
    expect(error.message).toMatch(/cancelled; \d+ bytes kept in .*file\.bin\.part for a later resume/);
    expect(statSync(`${dest}.part`).size).toBeGreaterThan(0);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('downloadFashionMnist', () => {
  it('asks for the official file names under the base URL and checks the published md5', async () => {
    const cacheDir = path.join(dir, 'cache');
    const error = await failure(downloadFashionMnist({ cacheDir, baseUrl: `${base}/fashion/` }));
    expect(seen[0].path).toBe('/fashion/train-images-idx3-ubyte.gz');
    expect(error.code).toBe('checksum-mismatch');
    expect(error.message).toContain(`expected ${FASHION_MNIST_FILES.trainImages.md5}`);
    expect(existsSync(path.join(cacheDir, 'fashion-mnist', 'train-images-idx3-ubyte.gz'))).toBe(false);
  });
});
