import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src-main/engine/data/dataset';
import { IdxError, parseIdx, readIdxExamples, readIdxFile } from '../../src-main/engine/data/idx';

const dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file as the format describes it, written here byte by byte. */
function idx(type: number, dims: number[], values: ArrayLike<number>): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Array.from(values), header.length);
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

// 3 images of 2x4, pixel value = 10 * image + position
const pixels = Array.from({ length: 3 * 2 * 4 }, (_, i) => 10 * Math.floor(i / 8) + (i % 8));
const images = idx(0x08, [3, 2, 4], pixels);
const labels = idx(0x08, [3], [2, 0, 1]);

describe('parseIdx', () => {
  it('reads the magic number, dimensions (big-endian) and values', () => {
    expect(Array.from(images.subarray(0, 4))).toEqual([0, 0, 8, 3]); // 0x00000803
    const parsed = parseIdx(images, 'x');
    expect(parsed.dims).toEqual([3, 2, 4]);
    expect(Array.from(parsed.data)).toEqual(pixels);
    const big = idx(0x08, [1, 300, 1], new Uint8Array(300));
    expect(parseIdx(big, 'big').dims).toEqual([1, 300, 1]); // 300 = 0x0000012c needs two bytes
  });

  it('names the file and the problem for a bad magic number', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => parseIdx(png, 'photo.png')).toThrow(/^photo\.png: bad magic number 0x89504e47: not an IDX file/);
    const unknownType = idx(0x07, [1], [0]);
    expect(() => parseIdx(unknownType, 'a')).toThrow(/bad magic number 0x00000701: unknown IDX data type 0x7/);
    const floats = idx(0x0d, [1], [0, 0, 0, 0]);
    expect(() => parseIdx(floats, 'f')).toThrow(/IDX data type float \(0xd\) is not supported/);
  });

  it('reports truncation with the expected and actual byte counts', () => {
    expect(() => parseIdx(images.subarray(0, images.length - 5), 'train-images')).toThrow(
      `train-images: truncated: expected ${images.length} bytes (3x2x4 values), got ${images.length - 5}`,
    );
    expect(() => parseIdx(images.subarray(0, 9), 'h')).toThrow('h: truncated: expected a 16-byte header for 3 dimensions, got 9 bytes');
    expect(() => parseIdx(images.subarray(0, 2), 'tiny')).toThrow(/tiny: truncated: 2 bytes/);
  });

  it('rejects bytes after the data', () => {
    const long = new Uint8Array(images.length + 3);
    long.set(images);
    expect(() => parseIdx(long, 'x')).toThrow(`x: 3 unexpected bytes after the 3x2x4 values (expected ${images.length} bytes, got ${images.length + 3})`);
  });

  it('throws IdxError, a DatasetError with code bad-file', () => {
    try {
      parseIdx(new Uint8Array([1, 2, 3, 4]), 'z');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IdxError);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as IdxError).code).toBe('bad-file');
      expect((err as IdxError).file).toBe('z');
    }
  });
});

describe('readIdxFile', () => {
  it('reads plain and gzipped files to the same values', async () => {
    const plain = await readIdxFile(write('plain-idx3', images));
    const gz = await readIdxFile(write('gz-idx3.gz', gzipSync(images)));
    const gzNoExt = await readIdxFile(write('gz-without-extension', gzipSync(images)));
    expect(Array.from(gz.data)).toEqual(Array.from(plain.data));
    expect(gzNoExt.dims).toEqual([3, 2, 4]);
  });

  it('names a truncated or corrupt gzip file', async () => {
    const gz = gzipSync(idx(0x08, [50, 28, 28], new Uint8Array(50 * 784).map((_, i) => (i * 7) % 251)));
    const truncated = write('cut.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    await expect(readIdxFile(truncated)).rejects.toThrow(new RegExp(`^${truncated.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: gzip data is truncated`));
    const corrupt = Uint8Array.from(gz);
    corrupt.fill(0xff, 20, 60);
    await expect(readIdxFile(write('corrupt.gz', corrupt))).rejects.toThrow(/corrupt\.gz: gzip data is (corrupt|truncated)/);
  });

  it('reports a missing file as dataset-missing', async () => {
    await expect(readIdxFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'dataset-missing', message: expect.stringMatching(/nope: file not found/) });
  });
});

describe('readIdxExamples', () => {
  it('pairs images with labels as [h, w, 1] examples', async () => {
    const ex = await readIdxExamples(write('i', images), write('l', labels), 10);
    expect(ex.count).toBe(3);
    expect(ex.shape).toEqual([2, 4, 1]);
    expect(Array.from(ex.labels)).toEqual([2, 0, 1]);
    expect(ex.labels).toBeInstanceOf(Int32Array);
    expect(ex.images[8]).toBe(10); // first pixel of image 1
  });

  it('refuses an image/label count mismatch', async () => {
    const twoLabels = write('l2', idx(0x08, [2], [0, 1]));
    await expect(readIdxExamples(write('i', images), twoLabels, 10)).rejects.toThrow(`${twoLabels}: image/label count mismatch: 2 labels for 3 images in i`);
  });

  it('refuses swapped files and labels outside the classes', async () => {
    const i = write('i', images);
    const l = write('l', labels);
    await expect(readIdxExamples(l, i, 10)).rejects.toThrow(/expected images \(magic 0x00000803: count x rows x columns\), got 1 dimensions/);
    await expect(readIdxExamples(i, i, 10)).rejects.toThrow(/expected labels \(magic 0x00000801: one dimension\), got 3 dimensions/);
    await expect(readIdxExamples(i, l, 2)).rejects.toThrow(`${l}: label 2 of example 0 is not a class index below 2`);
  });
});
