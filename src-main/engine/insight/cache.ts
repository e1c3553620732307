// The insight cache: results of whole-dataset passes (top patches, feature vectors) on disk, keyed by what
// they depend on. The model's part of a key hashes its weights, so retrained or edited models never hit
// an old entry.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../tf';

/** $CONVSCOPE_CACHE_DIR/insight, else $XDG_CACHE_HOME/convscope/insight, else ~/.cache/convscope/insight. */
export function defaultInsightCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONVSCOPE_CACHE_DIR) return path.join(env.CONVSCOPE_CACHE_DIR, 'insight');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'convscope', 'insight');
}

const fingerprints = new WeakMap<tf.LayersModel, string>();

/** sha256 of the model's layer configs and every weight's name, shape and values (memoised per model object). */
export async function modelFingerprint(model: tf.LayersModel): Promise<string> {
  const known = fingerprints.get(model);
  if (known) return known;
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.layers.map((l) => [l.getClassName(), l.getConfig()])));
  for (const w of model.weights) {
    const values = (await w.read().data()) as Float32Array;
    hash.update(`${w.originalName}:${w.shape.join('x')}:`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  const digest = hash.digest('hex');
  fingerprints.set(model, digest);
  return digest;
}

/** A file-name-safe key for these parts. */
export function insightKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export class InsightCache {
  constructor(readonly dir: string = defaultInsightCacheDir()) {}

  private file(kind: string, key: string, ext: string): string {
    return path.join(this.dir, kind, `${key}.${ext}`);
  }

  async readJson<T>(kind: string, key: string): Promise<T | null> {
    const text = await readFile(this.file(kind, key, 'json'), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null; // a torn or foreign file is a miss
    }
  }

  async readBytes(kind: string, key: string): Promise<Uint8Array | null> {
    return readFile(this.file(kind, key, 'bin')).catch(() => null);
  }

  async writeJson(kind: string, key: string, value: unknown): Promise<void> {
    await this.writeAtomic(this.file(kind, key, 'json'), JSON.stringify(value));
  }

  async writeBytes(kind: string, key: string, bytes: Uint8Array): Promise<void> {
    await this.writeAtomic(this.file(kind, key, 'bin'), bytes);
  }

  private async writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }
}
