// The one reader of the weight shards a tfjs layers-model JSON names (model loading, inspection, import).
// A manifest is input from outside: every shard must be a relative path to a regular file inside the JSON
// file's own folder, also after following symlinks, so no model.json can make ConvScope read other files.
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { tf } from '../tf';
import { ModelFileError } from './errors';

type WeightsEntry = tf.io.WeightsManifestEntry;

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one weight takes in its shard. */
export function weightBytes(w: WeightsEntry): number {
  const dtype = w.quantization?.dtype ?? w.dtype;
  const size = BYTES[dtype];
  if (size === undefined) throw new ModelFileError(`weight ${w.name} has dtype ${dtype}, which this app cannot read`);
  if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ModelFileError(`weight ${w.name} has a malformed shape ${JSON.stringify(w.shape)}`);
  return w.shape.reduce((a, b) => a * b, 1) * size;
}

/** The file shard `rel` of `jsonPath` names, refused unless it lies inside the JSON file's folder (symlinks followed). */
export async function resolveShardPath(jsonPath: string, rel: unknown): Promise<string> {
  const dir = path.dirname(path.resolve(jsonPath));
  const refuse = (why: string) => new ModelFileError(`${jsonPath} names a weights file ${JSON.stringify(rel)} ${why}; weights files must lie in the model's own folder`);
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0')) throw refuse('that is not a file name');
  if (path.isAbsolute(rel) || /^[a-z][a-z0-9+.-]*:/i.test(rel)) throw refuse('by an absolute path or URL');
  const file = path.resolve(dir, rel);
  const inside = (root: string, p: string) => {
    const r = path.relative(root, p);
    return r !== '' && !r.startsWith(`..${path.sep}`) && r !== '..' && !path.isAbsolute(r);
  };
  if (!inside(dir, file)) throw refuse('outside its folder');
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileError(`${path.basename(jsonPath)} in ${path.dirname(jsonPath)} needs the weights file ${rel}, which is missing`);
    throw cannotRead(rel, err);
  }
  if (!inside(await realpath(dir), real)) throw refuse('that is a link to outside its folder');
  if (!(await stat(real)).isFile()) throw refuse('that is not a regular file');
  return real;
}

function cannotRead(rel: string, err: unknown): ModelFileError {
  return new ModelFileError(`cannot read the weights file ${rel}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
}

/** Reads every shard of the manifest (each checked by resolveShardPath) and checks each group's byte count. */
export async function readWeightShards(jsonPath: string, manifest: tf.io.WeightsManifestConfig): Promise<[WeightsEntry[], ArrayBuffer[]]> {
  const specs: WeightsEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) throw new ModelFileError(`${jsonPath}: a weightsManifest group needs "paths" and "weights" lists`);
    specs.push(...group.weights);
    const expected = group.weights.reduce((sum, w) => sum + weightBytes(w), 0);
    const files = await Promise.all(group.paths.map((rel) => resolveShardPath(jsonPath, rel)));
    // Sizes first: a shard set of the wrong size is refused before anything is read into memory.
    let actual = 0;
    for (const file of files) actual += (await stat(file)).size;
    if (actual === expected) {
      actual = 0; // again, as read (a file may change between stat and read)
      for (const [i, file] of files.entries()) {
        const data = await readFile(file).catch((err: unknown) => Promise.reject(cannotRead(group.paths[i], err)));
        buffers.push(ownBuffer(data));
        actual += data.byteLength;
      }
    }
    if (actual !== expected) {
      throw new ModelFileError(
        `weights file ${group.paths.join(', ')} in ${path.dirname(jsonPath)} has ${actual} bytes but ${path.basename(jsonPath)} describes ${expected} bytes (truncated or from another model)`,
      );
    }
  }
  return [specs, buffers];
}

/** The bytes as an ArrayBuffer of their own (no copy when the view already spans its whole buffer). */
function ownBuffer(b: Uint8Array): ArrayBuffer {
  const whole = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
  return (whole ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) as ArrayBuffer;
}
