// Downloads one file into place with a checksum check. Bytes go to `<dest>.part` first; an interrupted
// download keeps the .part and the next attempt asks for the rest (HTTP Range). Only a file whose
// checksum matches is renamed to `dest`; a mismatching one is deleted.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError } from './dataset';

export interface DownloadProgress {
  url: string;
  /** Bytes of the file on disk so far, including what an earlier attempt left. */
  received: number;
  /** The file's full size when the server says it (or expectedBytes), else null. */
  total: number | null;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Hex digests the file must have; give at least one. */
  md5?: string;
  sha256?: string;
  /** Size the file should have, used for progress when the server does not say. */
  expectedBytes?: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** Further attempts after a connection breaks mid-file, each resuming where the last stopped. Default 3. */
  retries?: number;
  /** Give up an attempt when no byte arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  /** The file was already in place with the right checksum: nothing was downloaded. */
  cached: boolean;
  /** Bytes a .part file already held when this call started (0: a fresh download). */
  resumedFrom: number;
  bytes: number;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

async function digests(file: string, md5: boolean, sha256: boolean): Promise<{ md5?: string; sha256?: string }> {
  const hashes = { md5: md5 ? createHash('md5') : null, sha256: sha256 ? createHash('sha256') : null };
  for await (const chunk of createReadStream(file)) {
    hashes.md5?.update(chunk as Buffer);
    hashes.sha256?.update(chunk as Buffer);
  }
  return { md5: hashes.md5?.digest('hex'), sha256: hashes.sha256?.digest('hex') };
}

/** The first checksum of `file` that differs from what options expect, or null when all match. */
async function checksumProblem(file: string, options: DownloadOptions): Promise<string | null> {
  const got = await digests(file, !!options.md5, !!options.sha256);
  if (options.md5 && got.md5 !== options.md5.toLowerCase()) return `md5 ${got.md5}, expected ${options.md5.toLowerCase()}`;
  if (options.sha256 && got.sha256 !== options.sha256.toLowerCase()) return `sha256 ${got.sha256}, expected ${options.sha256.toLowerCase()}`;
  return null;
}

/** A broken connection or stalled transfer: worth resuming. */
class Interrupted extends Error {}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** One request; appends to `part` (or restarts it). Returns when the server has sent everything it will. */
async function attempt(options: DownloadOptions, part: string): Promise<void> {
  const offset = (await sizeOf(part)) ?? 0;
  const idle = new AbortController();
  const idleMs = options.idleTimeoutMs ?? 30_000;
  let timer = setTimeout(() => idle.abort(), idleMs);
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  try {
    let response: Response;
    try {
      response = await fetch(options.url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal, redirect: 'follow' });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (idle.signal.aborted) throw new Interrupted(`no answer for ${idleMs} ms`);
      throw new DatasetError(`download of ${options.url} failed: cannot reach the server (${describeFetchError(err)})`, 'download-failed');
    }
    let append = false;
    let total: number | null = null;
    if (response.status === 416 && offset > 0) {
      // The .part already holds every byte (or more than the file has): let the checksum decide.
      await response.body?.cancel();
      return;
    } else if (response.status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== offset) {
        await response.body?.cancel();
        await rm(part, { force: true });
        throw new Interrupted(`the server answered a resume with another range (${response.headers.get('content-range')})`);
      }
      append = true;
      total = range[2] === '*' ? null : Number(range[2]);
    } else if (response.ok) {
      const length = response.headers.get('content-length');
      total = length === null ? null : Number(length);
    } else {
      await response.body?.cancel();
      throw new DatasetError(`download of ${options.url} failed: HTTP ${response.status} ${response.statusText}`, 'download-failed');
    }
    total ??= options.expectedBytes ?? null;
    let received = append ? offset : 0;
    const file = await open(part, append ? 'a' : 'w');
    try {
      options.onProgress?.({ url: options.url, received, total });
      if (response.body) {
        for await (const chunk of response.body) {
          clearTimeout(timer);
          timer = setTimeout(() => idle.abort(), idleMs);
          await file.write(chunk);
          received += chunk.length;
          options.onProgress?.({ url: options.url, received, total });
        }
      }
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new Interrupted(idle.signal.aborted ? `no data for ${idleMs} ms` : `connection broken (${describeFetchError(err)})`);
    } finally {
      await file.close();
    }
    if (total !== null && received < total) throw new Interrupted(`connection closed after ${received} of ${total} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  if (!options.md5 && !options.sha256) throw new DatasetError(`download of ${options.url}: no checksum given to check the file against`, 'bad-argument');
  const { dest } = options;
  const part = `${dest}.part`;
  await mkdir(path.dirname(dest), { recursive: true });

  const existing = await sizeOf(dest);
  if (existing !== null) {
    if ((await checksumProblem(dest, options)) === null) return { path: dest, cached: true, resumedFrom: 0, bytes: existing };
    await rm(dest, { force: true });
  }

  const resumedFrom = (await sizeOf(part)) ?? 0;
  const retries = options.retries ?? 3;
  for (let tries = 0; ; tries++) {
    try {
      await attempt(options, part);
      break;
    } catch (err) {
      if (options.signal?.aborted) {
        throw new DatasetError(`download of ${options.url} cancelled; ${(await sizeOf(part)) ?? 0} bytes kept in ${part} for a later resume`, 'download-failed');
      }
      if (!(err instanceof Interrupted)) throw err;
      if (tries >= retries) {
        throw new DatasetError(
          `download of ${options.url} interrupted (${err.message}) after ${tries + 1} attempt(s); ${(await sizeOf(part)) ?? 0} bytes kept in ${part}, run it again to resume`,
          'download-failed',
        );
      }
    }
  }

  const problem = await checksumProblem(part, options);
  if (problem !== null) {
    await rm(part, { force: true });
    throw new DatasetError(`download of ${options.url} is corrupt: ${problem}; the file was deleted, try again`, 'checksum-mismatch');
  }
  await rename(part, dest);
  return { path: dest, cached: false, resumedFrom, bytes: (await sizeOf(dest)) ?? 0 };
}
