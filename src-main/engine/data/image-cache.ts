// A disk cache of decoded images: one raw file per entry under dir/<2 hex>/<key>.u8, kept within a byte
// budget by evicting the least recently used entries. Use order survives restarts through each file's mtime
// (touched on every hit). Losing an entry is harmless (the caller decodes again), so writes are
// temp-file + rename without fsync, and several processes may share one folder: a temporary file is
// removed only when its writer (the pid in its name) is gone or it is older than STALE_TEMP_MS, and an
// entry whose temporary file or folder vanished under a write (another process cleaning up) is simply
// not stored. Eviction by another process only costs a decode.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const SUFFIX = '.u8';
const TEMP_PREFIX = '.tmp-';
/** A temporary file this old is stale even if a process with its writer's pid runs (pids are reused). */
const STALE_TEMP_MS = 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the temporary file `name` (`.tmp-<pid>-<hex>`) was left by a writer that is gone. */
async function staleTemp(file: string, name: string): Promise<boolean> {
  const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return true;
  const info = await stat(file).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs > STALE_TEMP_MS;
}

/** $XDG_CACHE_HOME/convscope/images, else ~/.cache/convscope/images. */
export function defaultImageCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'convscope', 'images');
}

export function cacheKey(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 40);
}

export class ImageCache {
  /** key -> bytes, oldest use first (Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  private total = 0;

  private constructor(
    readonly dir: string,
    readonly budgetBytes: number,
  ) {}

  /** Opens (creating if needed) the cache folder and learns its entries, ordered by last use. */
  static async open(dir: string, budgetBytes: number): Promise<ImageCache> {
    if (!(budgetBytes >= 0)) throw new Error(`image cache budget must be >= 0 bytes, got ${budgetBytes}`);
    const cache = new ImageCache(dir, budgetBytes);
    await mkdir(dir, { recursive: true });
    const found: { key: string; bytes: number; used: number }[] = [];
    for (const sub of await readdir(dir, { withFileTypes: true })) {
      if (!sub.isDirectory() || !/^[0-9a-f]{2}$/.test(sub.name)) continue;
      const subDir = path.join(dir, sub.name);
      for (const name of await readdir(subDir)) {
        const file = path.join(subDir, name);
        if (!name.endsWith(SUFFIX)) {
          // A temporary file left by a killed writer; another process's live one is left alone.
          if (name.startsWith(TEMP_PREFIX) && (await staleTemp(file, name))) await rm(file, { force: true });
          continue;
        }
        const info = await stat(file).catch(() => null);
        if (info?.isFile()) found.push({ key: name.slice(0, -SUFFIX.length), bytes: info.size, used: info.mtimeMs });
      }
    }
    found.sort((a, b) => a.used - b.used);
    for (const e of found) cache.remember(e.key, e.bytes);
    await cache.evict();
    return cache;
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key + SUFFIX);
  }

  private remember(key: string, bytes: number): void {
    this.forget(key);
    this.entries.set(key, bytes);
    this.total += bytes;
  }

  private forget(key: string): void {
    const bytes = this.entries.get(key);
    if (bytes === undefined) return;
    this.entries.delete(key);
    this.total -= bytes;
  }

  /** The entry's bytes, or null when absent or not `expectedBytes` long (a torn or foreign file). */
  async get(key: string, expectedBytes: number): Promise<Uint8Array | null> {
    const file = this.file(key);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      this.forget(key);
      return null;
    }
    if (data.length !== expectedBytes) {
      this.forget(key);
      await rm(file, { force: true });
      return null;
    }
    this.remember(key, data.length);
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  }

  /**
   * Stores an entry, then evicts least recently used ones beyond the budget. Entries over the budget are not
   * stored, nor is one whose temporary file or folder another process removed meanwhile (ENOENT): the caller
   * decodes it again when needed. Other write errors (ENOSPC, EACCES) are thrown.
   */
  async put(key: string, data: Uint8Array): Promise<void> {
    if (data.length > this.budgetBytes) return;
    const file = this.file(key);
    const tmp = path.join(path.dirname(file), `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(tmp, data);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    this.remember(key, data.length);
    await this.evict();
  }

  private async evict(): Promise<void> {
    for (const [key, bytes] of this.entries) {
      if (this.total <= this.budgetBytes) break;
      this.entries.delete(key);
      this.total -= bytes;
      await unlink(this.file(key)).catch(() => undefined);
    }
  }
}
