// One checkpoint = one file: magic, header length, JSON header, then float32 arrays. Written atomically, so a
// checkpoint on disk is always whole; a killed writer leaves only a temporary file, which readers never open.
// The header carries a CRC-32 of every array and of the run state (meta), so a checkpoint changed after it was
// written (a bad disk, a stray write) is refused by name instead of resumed. Checkpoints written before the
// checksums existed (no crc32 fields) are still read, unchecked.
import { readFile, rename } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from './atomic';
import { RunFolderError } from './errors';
import type { NamedArray } from './optimizers';

const MAGIC = 'CSCKPT01';

interface ArrayEntry {
  name: string;
  shape: number[];
  /** Byte offset in the data section. */
  offset: number;
  length: number;
  /** CRC-32 of the array's bytes (absent in checkpoints written before checksums). */
  crc32?: number;
}

interface Header<M> {
  meta: M;
  /** CRC-32 of JSON.stringify(meta) (absent in checkpoints written before checksums). */
  metaCrc32?: number;
  groups: Record<string, ArrayEntry[]>;
  dataBytes: number;
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export interface CheckpointContent<M> {
  meta: M;
  /** e.g. { weights: [...], optimizer: [...] } */
  arrays: Record<string, NamedArray[]>;
}

export function encodeCheckpoint<M>(content: CheckpointContent<M>): Uint8Array {
  const groups: Record<string, ArrayEntry[]> = {};
  let offset = 0;
  for (const [group, arrays] of Object.entries(content.arrays)) {
    groups[group] = arrays.map((a) => {
      const entry = { name: a.name, shape: a.shape, offset, length: a.values.length, crc32: crc32(bytesOf(a.values)) };
      offset += a.values.length * 4;
      return entry;
    });
  }
  const header: Header<M> = { meta: content.meta, metaCrc32: crc32(JSON.stringify(content.meta)), groups, dataBytes: offset };
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data section starts 4-byte aligned (Float32Array views need it).
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const start = MAGIC.length + 4 + json.length;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  for (const [group, arrays] of Object.entries(content.arrays)) {
    arrays.forEach((a, i) => {
      const e = groups[group][i];
      out.set(bytesOf(a.values), start + e.offset);
    });
  }
  return out;
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The entry's problem, or null when it is a well-formed array inside a data section of `dataBytes`. */
function entryProblem(e: ArrayEntry, dataBytes: number): string | null {
  if (typeof e?.name !== 'string') return 'an array without a name';
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) return `array ${e.name} has a malformed shape`;
  if (!isCount(e.offset) || !isCount(e.length) || e.offset % 4 !== 0) return `array ${e.name} has a malformed offset or length`;
  if (e.offset + e.length * 4 > dataBytes) return `array ${e.name} reaches past the end of the data`;
  if (e.shape.reduce((a, b) => a * b, 1) !== e.length) return `array ${e.name} has ${e.length} values but shape ${e.shape.join('x')}`;
  if (e.crc32 !== undefined && !isCount(e.crc32)) return `array ${e.name} has a malformed checksum`;
  return null;
}

export function decodeCheckpoint<M>(bytes: Uint8Array, file: string): CheckpointContent<M> {
  const bad = (why: string): never => {
    throw new RunFolderError(`checkpoint ${file} is unreadable: ${why}`, 'checkpoint-corrupt');
  };
  const corrupt = (why: string): never => {
    throw new RunFolderError(`checkpoint ${file} is corrupt: ${why} (it changed after it was written)`, 'checkpoint-corrupt');
  };
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) bad('not a ConvScope checkpoint');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4 + headerLength;
  if (start > bytes.length) bad('truncated header');
  let header: Header<M>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, start)));
  } catch (err) {
    return bad(`malformed header (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || typeof header.groups !== 'object' || header.groups === null || !isCount(header.dataBytes)) bad('malformed header');
  if (bytes.length !== start + header.dataBytes) bad(`expected ${start + header.dataBytes} bytes, found ${bytes.length}`);
  if (header.metaCrc32 !== undefined && crc32(JSON.stringify(header.meta)) !== header.metaCrc32) corrupt('its run state fails its checksum');
  // Copy the data section once so every array is an aligned view of its own buffer.
  const data = bytes.slice(start).buffer;
  const arrays: Record<string, NamedArray[]> = {};
  for (const [group, entries] of Object.entries(header.groups)) {
    if (!Array.isArray(entries)) bad(`malformed header (group ${group})`);
    arrays[group] = entries.map((e) => {
      const problem = entryProblem(e, header.dataBytes);
      if (problem) bad(`${group}: ${problem}`);
      const values = new Float32Array(data, e.offset, e.length);
      if (e.crc32 !== undefined && crc32(bytesOf(values)) !== e.crc32) corrupt(`${group} array ${e.name} fails its checksum`);
      return { name: e.name, shape: e.shape, values };
    });
  }
  return { meta: header.meta, arrays };
}

/**
 * Writes the checkpoint atomically. With `previous`, the checkpoint it replaces is kept there: once the new one is
 * whole on disk, the old one is renamed to `previous` (replacing the one before), then the new one to `file`.
 * A crash between the two renames leaves no `file` but an intact `previous`: the newest intact checkpoint.
 */
export async function writeCheckpointFile<M>(file: string, content: CheckpointContent<M>, previous?: string): Promise<void> {
  const keepOld = previous
    ? () =>
        rename(file, previous).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        })
    : undefined;
  await writeFileAtomic(file, encodeCheckpoint(content), keepOld);
}

/** The checkpoint at `file`, or null when there is none. */
export async function readCheckpointFile<M>(file: string): Promise<CheckpointContent<M> | null> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return bytes ? decodeCheckpoint<M>(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file) : null;
}
