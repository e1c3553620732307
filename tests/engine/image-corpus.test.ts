// Real image files made by other tools (Pillow, ImageMagick, cwebp: scripts/make-image-corpus.py) walked
// through the engine's one image path, as inspect reads a file and as a folder dataset stores it; each must
// give the pixels its manifest states (within the manifest's tolerance) or be refused with its one-line error.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError } from '../../src-main/engine/data/image-decode';
import { openFolderDataset, type FolderDataset } from '../../src-main/engine/data/folder';

const CORPUS = path.join(import.meta.dirname, '..', 'fixtures', 'images-corpus');

type Rgb = [number, number, number];
interface PixelsEntry {
  file: string;
  expect: 'pixels';
  width: number;
  height: number;
  mean: Rgb;
  squareMean: Rgb;
  samples: [number, number, Rgb][];
  tolerance: { mean: number; sample: number };
  grey?: number[];
}
interface ErrorEntry {
  file: string;
  expect: 'error';
  error: string;
}
type Entry = PixelsEntry | ErrorEntry;

const manifest = JSON.parse(await readFile(path.join(CORPUS, 'manifest.json'), 'utf8')) as { files: Entry[] };
const pixelEntries = manifest.files.filter((e): e is PixelsEntry => e.expect === 'pixels');
const errorEntries = manifest.files.filter((e): e is ErrorEntry => e.expect === 'error');

function means(data: Uint8Array, channels: number): number[] {
  const sums = new Array<number>(channels).fill(0);
  for (let i = 0; i < data.length; i++) sums[i % channels] += data[i];
  return sums.map((s) => s / (data.length / channels));
}

/** Worst absolute difference, with where it is, so a failure says what came out. */
function worst(got: readonly number[], want: readonly number[]): number {
  return Math.max(...want.map((w, i) => Math.abs(got[i] - w)));
}

describe('image corpus: decoded pixels', () => {
  it('the corpus stays small and every file is in the manifest', async () => {
    const { readdir, stat } = await import('node:fs/promises');
    const names = (await readdir(CORPUS)).filter((n) => n !== 'manifest.json').sort();
    expect(names).toEqual(manifest.files.map((e) => e.file).sort());
    let total = 0;
    for (const n of await readdir(CORPUS)) total += (await stat(path.join(CORPUS, n))).size;
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });

  it.each(pixelEntries.map((e) => [e.file, e] as const))('%s', async (_name, entry) => {
    const img = await decodeImage(path.join(CORPUS, entry.file), { channels: 3 });
    expect([img.width, img.height]).toEqual([entry.width, entry.height]);
    const got = means(img.data, 3);
    expect(worst(got, entry.mean), `mean ${got.map((v) => v.toFixed(1))} vs ${entry.mean}`).toBeLessThanOrEqual(entry.tolerance.mean);
    for (const [x, y, want] of entry.samples) {
      const at = (y * img.width + x) * 3;
      const px = Array.from(img.data.subarray(at, at + 3));
      expect(worst(px, want), `pixel (${x}, ${y}) ${px} vs ${want}`).toBeLessThanOrEqual(entry.tolerance.sample);
    }
    if (entry.grey) {
      const grey = await decodeImage(path.join(CORPUS, entry.file), { channels: 1 });
      const px = entry.samples.map(([x, y]) => grey.data[y * grey.width + x]);
      expect(worst(px, entry.grey), `grey ${px} vs ${entry.grey}`).toBeLessThanOrEqual(entry.tolerance.sample);
    }
  });
});

describe('image corpus: refused files', () => {
  it.each(errorEntries.map((e) => [e.file, e] as const))('%s', async (_name, entry) => {
    const err = await decodeImage(path.join(CORPUS, entry.file), { channels: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    const message = (err as Error).message;
    expect(message).toContain(entry.error);
    expect(message.startsWith(`${entry.file}: `), message).toBe(true);
    expect(message).not.toMatch(/\n/);
  });

  it('the same bytes as a buffer (a dropped image) give the same outcome', async () => {
    for (const entry of manifest.files) {
      const bytes = await readFile(path.join(CORPUS, entry.file));
      const result = await decodeImage(bytes, { channels: 3, name: entry.file }).then(
        (img) => ({ ok: true as const, img }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      if (entry.expect === 'error') {
        expect(result.ok, entry.file).toBe(false);
        if (!result.ok) expect((result.err as Error).message, entry.file).toContain(entry.error);
      } else {
        expect(result.ok, entry.file).toBe(true);
        if (result.ok) expect(worst(means(result.img.data, 3), entry.mean), entry.file).toBeLessThanOrEqual(entry.tolerance.mean);
      }
    }
  });
});

describe('image corpus: as a folder dataset', () => {
  let tmp: string;
  let ds: FolderDataset;
  const S = 32;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-corpus-'));
    const classDir = path.join(tmp, 'data', 'corpus');
    await mkdir(classDir, { recursive: true });
    for (const e of manifest.files) await copyFile(path.join(CORPUS, e.file), path.join(classDir, e.file));
    ds = await openFolderDataset(path.join(tmp, 'data'), { inputSize: 28, cacheDir: path.join(tmp, 'cache'), concurrency: 2 });
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('keeps every decodable file and stores its centre square', async () => {
    expect(ds.storedSize).toBe(S);
    expect(ds.train.files.map((f) => path.basename(f)).sort()).toEqual(pixelEntries.map((e) => e.file).sort());
    const { images } = await ds.train.read(Array.from({ length: ds.train.count }, (_, i) => i));
    ds.train.files.forEach((file, i) => {
      const entry = pixelEntries.find((e) => e.file === path.basename(file))!;
      const got = means(images.subarray(i * S * S * 3, (i + 1) * S * S * 3), 3);
      expect(worst(got, entry.squareMean), `${entry.file}: ${got.map((v) => v.toFixed(1))} vs ${entry.squareMean}`).toBeLessThanOrEqual(entry.tolerance.mean + 1);
    });
  });

  it('skips every refused file, naming it and its problem', () => {
    const skipped = new Map(ds.skipped.map((s) => [path.basename(s.file), s.reason]));
    expect([...skipped.keys()].sort()).toEqual(errorEntries.map((e) => e.file).sort());
    for (const e of errorEntries) expect(skipped.get(e.file), e.file).toContain(e.error);
  });
});
