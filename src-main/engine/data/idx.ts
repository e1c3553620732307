// Our own reader for the IDX format of MNIST-like datasets (http://yann.lecun.com/exdb/mnist/):
// two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, each dimension as a
// big-endian uint32, then the values row-major. Gzipped files (.gz, found by their magic bytes) are
// inflated first. Only unsigned-byte data is accepted: every IDX dataset we read (images, labels) uses it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError, type ImageShape } from './dataset';

const gunzipAsync = promisify(gunzip);

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

export class IdxError extends DatasetError {
  constructor(
    /** The file (or name) the problem is in. */
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`, 'bad-file');
    this.name = 'IdxError';
  }
}

export interface IdxArray {
  dims: number[];
  /** The values, row-major (a view into the file's bytes, not a copy). */
  data: Uint8Array;
}

/** Parses IDX bytes (already inflated). `name` is used in error messages. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) throw new IdxError(name, `truncated: ${bytes.length} bytes, too short for an IDX header`);
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(name, `bad magic number 0x${magic.toString(16).padStart(8, '0')}: not an IDX file (IDX files start with two zero bytes)`);
  }
  const type = bytes[2];
  const rank = bytes[3];
  if (!(type in TYPE_NAMES)) throw new IdxError(name, `bad magic number 0x${magic.toString(16).padStart(8, '0')}: unknown IDX data type 0x${type.toString(16)}`);
  if (type !== 0x08) throw new IdxError(name, `IDX data type ${TYPE_NAMES[type]} (0x${type.toString(16)}) is not supported, only unsigned byte (0x08)`);
  if (rank === 0) throw new IdxError(name, 'IDX header declares 0 dimensions');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new IdxError(name, `truncated: expected a ${headerBytes}-byte header for ${rank} dimensions, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const values = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + values;
  if (bytes.length < expected) {
    throw new IdxError(name, `truncated: expected ${expected} bytes (${dims.join('x')} values), got ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new IdxError(name, `${bytes.length - expected} unexpected bytes after the ${dims.join('x')} values (expected ${expected} bytes, got ${bytes.length})`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads and parses one IDX file, inflating it when it is gzipped. */
export async function readIdxFile(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError(`${file}: file not found`, 'dataset-missing');
    throw new IdxError(file, `cannot be read (${(err as Error).message})`);
  }
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'gzip data is truncated' : 'gzip data is corrupt';
      throw new IdxError(file, `${why} (${(err as Error).message})`);
    }
  }
  return parseIdx(bytes, file);
}

export interface IdxExamples {
  count: number;
  shape: ImageShape;
  /** count * h * w bytes (one channel). */
  images: Uint8Array;
  labels: Int32Array;
}

/**
 * Reads an images file (3 dimensions: count, rows, columns) and its labels file (1 dimension: count),
 * checks they agree and that every label is below `classes`.
 */
export async function readIdxExamples(imagesFile: string, labelsFile: string, classes: number): Promise<IdxExamples> {
  const [images, labels] = await Promise.all([readIdxFile(imagesFile), readIdxFile(labelsFile)]);
  if (images.dims.length !== 3) {
    throw new IdxError(imagesFile, `expected images (magic 0x00000803: count x rows x columns), got ${images.dims.length} dimensions`);
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(labelsFile, `expected labels (magic 0x00000801: one dimension), got ${labels.dims.length} dimensions`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new IdxError(labelsFile, `image/label count mismatch: ${labels.dims[0]} labels for ${count} images in ${path.basename(imagesFile)}`);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (label >= classes) throw new IdxError(labelsFile, `label ${label} of example ${i} is not a class index below ${classes}`);
    out[i] = label;
  }
  return { count, shape: [height, width, 1], images: images.data, labels: out };
}
