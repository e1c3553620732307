// One checkpoint = one file: magic, header length, JSON header, then float32 arrays. Written atomically, so a
// checkpoint on disk is always whole; a killed writer leaves only a temporary file, which readers never open.
import { readFile } from 'node:fs/promises';
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
}

interface Header<M> {
  meta: M;
  groups: Record<string, ArrayEntry[]>;
  dataBytes: number;
}

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
      const entry = { name: a.name, shape: a.shape, offset, length: a.values.length };
      offset += a.values.length * 4;
      return entry;
    });
  }
  const header: Header<M> = { meta: content.meta, groups, dataBytes: offset };
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
      out.set(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength), start + e.offset);
    });
  }
  return out;
}

export function decodeCheckpoint<M>(bytes: Uint8Array, file: string): CheckpointContent<M> {
  const bad = (why: string): never => {
    throw new RunFolderError(`checkpoint ${file} is unreadable: ${why}`);
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
  if (bytes.length !== start + header.dataBytes) bad(`expected ${start + header.dataBytes} bytes, found ${bytes.length}`);
  // Copy the data section once so every array is an aligned view of its own buffer.
  const data = bytes.slice(start).buffer;
  const arrays: Record<string, NamedArray[]> = {};
  for (const [group, entries] of Object.entries(header.groups)) {
    arrays[group] = entries.map((e) => ({ name: e.name, shape: e.shape, values: new Float32Array(data, e.offset, e.length) }));
  }
  return { meta: header.meta, arrays };
}

export async function writeCheckpointFile<M>(file: string, content: CheckpointContent<M>): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(content));
}

/** The checkpoint at `file`, or null when there is none. */
export async function readCheckpointFile<M>(file: string): Promise<CheckpointContent<M> | null> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return bytes ? decodeCheckpoint<M>(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file) : null;
}
