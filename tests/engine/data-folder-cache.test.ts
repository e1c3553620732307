import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, ImageCache } from '../../src-main/engine/data/image-cache';
import { makeNoiseFolder } from './train-augment-folder';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'convscope-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

async function filesIn(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(root)) out.push(...(await readdir(path.join(root, sub))));
  return out.sort();
}

describe('ImageCache', () => {
  it('stores and returns entries; a wrong length counts as a miss and is removed', async () => {
    const cache = await ImageCache.open(dir, 1000);
    const key = cacheKey('a.png', 10, 123.5, 256);
    expect(key).toMatch(/^[0-9a-f]{40}$/);
    expect(cacheKey('a.png', 10, 123.5, 256)).toBe(key);
    expect(cacheKey('a.png', 10, 123.6, 256)).not.toBe(key);
    expect(await cache.get(key, 10)).toBeNull();
    await cache.put(key, bytes(10, 7));
    expect(cache.has(key)).toBe(true);
    expect(Array.from((await cache.get(key, 10))!)).toEqual(Array(10).fill(7));
    expect(await cache.get(key, 11)).toBeNull();
    expect(cache.has(key)).toBe(false);
    expect(await filesIn(dir)).toEqual([]);
  });

  it('evicts the least recently used entries beyond the budget', async () => {
    const cache = await ImageCache.open(dir, 250);
    const [a, b, c] = ['a', 'b', 'c'].map((s) => cacheKey(s));
    await cache.put(a, bytes(100, 1));
    await cache.put(b, bytes(100, 2));
    await cache.get(a, 100); // a is now more recent than b
    await cache.put(c, bytes(100, 3));
    expect([cache.has(a), cache.has(b), cache.has(c)]).toEqual([true, false, true]);
    expect(cache.bytes).toBe(200);
    expect(await filesIn(dir)).toEqual([a, c].map((k) => `${k}.u8`).sort());
    // Larger than the whole budget: not stored, nothing evicted.
    await cache.put(cacheKey('big'), bytes(300, 9));
    expect(cache.size).toBe(2);
  });

  it('reopening learns the entries in last-use order (file mtime) and removes torn temporaries', async () => {
    const first = await ImageCache.open(dir, 1000);
    const keys = ['x', 'y', 'z'].map((s) => cacheKey(s));
    for (const k of keys) await first.put(k, bytes(100, 5));
    // Make y the oldest and x the newest on disk.
    const at = (k: string) => path.join(dir, k.slice(0, 2), `${k}.u8`);
    await utimes(at(keys[1]), new Date(1000_000), new Date(1000_000));
    await utimes(at(keys[2]), new Date(2000_000), new Date(2000_000));
    await utimes(at(keys[0]), new Date(3000_000), new Date(3000_000));
    await mkdir(path.join(dir, 'ab'), { recursive: true });
    await writeFile(path.join(dir, 'ab', '.tmp-999999999-deadbeef'), 'half');
    // A smaller budget on reopen evicts the oldest (y) at once.
    const second = await ImageCache.open(dir, 250);
    expect(keys.map((k) => second.has(k))).toEqual([true, false, true]);
    expect(await filesIn(dir)).toEqual([keys[0], keys[2]].map((k) => `${k}.u8`).sort());
  });
});

/** Runs image-cache-child.ts; resolves with its exit code, stdout and stderr once it ends. */
function child(args: string[]): { ready: string; done: Promise<{ code: number | null; out: string; err: string }> } {
  const ready = path.join(dir, `ready-${Math.random().toString(36).slice(2)}`);
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'image-cache-child.ts'), ...args.slice(0, 2), ready, ...args.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return { ready, done: new Promise((resolve) => p.on('close', (code) => resolve({ code, out, err }))) };
}

describe('ImageCache shared by processes', () => {
  it('keeps the live temporary files of other writers; only those of dead writers (or old ones) are removed', async () => {
    await mkdir(path.join(dir, 'ab'), { recursive: true });
    const live = path.join(dir, 'ab', `.tmp-${process.pid}-0badcafe`);
    const dead = path.join(dir, 'ab', '.tmp-999999999-deadbeef');
    const old = path.join(dir, 'ab', `.tmp-${process.pid}-01d01d01`);
    for (const f of [live, dead, old]) await writeFile(f, 'half');
    await utimes(old, new Date(1000_000), new Date(1000_000));
    await ImageCache.open(dir, 1000);
    expect([existsSync(live), existsSync(dead), existsSync(old)]).toEqual([true, false, false]);
  });

  it('two processes decoding the same folder into one cache at once both succeed', async () => {
    const folder = path.join(dir, 'images');
    await makeNoiseFolder(folder, 14);
    const cacheDir = path.join(dir, 'cache');
    const go = path.join(dir, 'go');
    const children = [0, 1].map(() => child([folder, cacheDir, go, '30']));
    while (!children.every((c) => existsSync(c.ready))) await new Promise((r) => setTimeout(r, 20));
    await writeFile(go, '');
    for (const { code, out, err } of await Promise.all(children.map((c) => c.done))) {
      expect(err).toBe('');
      expect(code).toBe(0);
      const { decoded, hits } = JSON.parse(out) as { decoded: number; hits: number };
      expect(decoded + hits).toBe(30 * 42);
    }
  }, 60_000);
});
