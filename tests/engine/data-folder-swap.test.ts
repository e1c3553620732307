// A dataset folder changed after it was listed (time of check to time of use): a file swapped for a symbolic
// link to a file outside, or one of its folders swapped for a link, is never read; the bytes the decoder sees
// come from a handle opened without following links and checked to be the listed file inside the folder.
import { renameSync, symlinkSync, unlinkSync } from 'node:fs';
import fsp, { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFolderDataset } from '../../src-main/engine/data/folder';
import { readImageFile } from '../../src-main/engine/data/read-image-file';

let tmp: string;
let root: string;
let outside: string;
const SECRET = 250;

const png = (file: string, value: number) =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: value, g: value, b: value } } })
    .png()
    .toFile(file);

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-swap-'));
  root = path.join(tmp, 'ds');
  outside = path.join(tmp, 'outside');
  await mkdir(path.join(root, 'a'), { recursive: true });
  await mkdir(path.join(root, 'b'), { recursive: true });
  await mkdir(outside);
  for (const name of ['1.png', '2.png', '3.png']) await png(path.join(root, 'a', name), 10);
  await png(path.join(root, 'b', 'x.png'), 20);
  for (const name of ['2.png', 'x.png']) await png(path.join(outside, name), SECRET);
});
afterEach(() => rm(tmp, { recursive: true, force: true }));

/** Swaps root/a/2.png for a link to the outside file of that name. */
const swapFile = () => {
  unlinkSync(path.join(root, 'a', '2.png'));
  symlinkSync(path.join(outside, '2.png'), path.join(root, 'a', '2.png'));
};
/** Swaps the class folder root/b for a link to the outside folder (which has an x.png too). */
const swapFolder = () => {
  renameSync(path.join(root, 'b'), path.join(tmp, 'b-moved'));
  symlinkSync(outside, path.join(root, 'b'));
};

describe('a dataset folder changed after it was listed', () => {
  it('while opening: a file or a class folder swapped for a link out is skipped, never decoded', async () => {
    const ds = await openFolderDataset(root, {
      inputSize: 8,
      concurrency: 1,
      cacheDir: path.join(tmp, 'cache'),
      // Listed already; a/1.png decoded, the rest not yet.
      onProgress: (done) => {
        if (done === 1) (swapFile(), swapFolder());
      },
    });
    expect(ds.skipped.map((s) => [path.relative(root, s.file), s.reason])).toEqual([
      ['a/2.png', 'it leads outside the dataset folder (a symbolic link); not read'],
      ['b/x.png', 'it leads outside the dataset folder (a symbolic link); not read'],
    ]);
    const { images } = await ds.train.read(Array.from({ length: ds.train.count }, (_, i) => i));
    expect(Math.max(...images)).toBeLessThan(SECRET);
  }, 30_000);

  it('when an example is read later (not cached): the swapped file is refused by name', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const ds = await openFolderDataset(root, { inputSize: 8, cacheDir });
    const index = ds.train.files.indexOf(path.join(root, 'a', '2.png'));
    swapFile();
    await rm(cacheDir, { recursive: true, force: true });
    await expect(ds.train.read([index])).rejects.toThrow(`${path.join(root, 'a', '2.png')}: it leads outside the dataset folder (a symbolic link); not read`);
  }, 30_000);
});

describe('readImageFile: a swap between resolving the path and opening it', () => {
  const { realpath } = fsp;
  let swapAfterResolving: (() => void) | null = null;
  beforeEach(() => {
    // The attacker's move lands right after the path was resolved and checked, before it is opened.
    fsp.realpath = (async (...args: Parameters<typeof realpath>) => {
      const out = await realpath(...args);
      const swap = swapAfterResolving;
      swapAfterResolving = null;
      swap?.();
      return out;
    }) as typeof fsp.realpath;
    syncBuiltinESMExports();
  });
  afterAll(() => {
    fsp.realpath = realpath;
    syncBuiltinESMExports();
  });

  it('reads a file inside, and a link that stays inside', async () => {
    const realRoot = await realpath(root);
    symlinkSync('../b/x.png', path.join(root, 'a', 'inside.png'));
    const own = await readImageFile(path.join(root, 'a', '1.png'), realRoot);
    expect((await sharp(own).raw().toBuffer())[0]).toBe(10);
    expect((await sharp(await readImageFile(path.join(root, 'a', 'inside.png'), realRoot)).raw().toBuffer())[0]).toBe(20);
  });

  it('the file itself becomes a link: O_NOFOLLOW refuses to open it', async () => {
    const realRoot = await realpath(root);
    swapAfterResolving = swapFile;
    await expect(readImageFile(path.join(root, 'a', '2.png'), realRoot)).rejects.toThrow('it became a symbolic link after the folder was listed; not read');
  });

  it('a folder of its path becomes a link: the opened file is not the one inside, refused', async () => {
    const realRoot = await realpath(root);
    swapAfterResolving = swapFolder;
    await expect(readImageFile(path.join(root, 'b', 'x.png'), realRoot)).rejects.toThrow('it changed while being opened (a symbolic link swapped in); not read');
  });

  it('a FIFO swapped in is refused without waiting for a writer', async () => {
    const realRoot = await realpath(root);
    const { execFileSync } = await import('node:child_process');
    swapAfterResolving = () => {
      unlinkSync(path.join(root, 'a', '3.png'));
      execFileSync('mkfifo', [path.join(root, 'a', '3.png')]);
    };
    await expect(readImageFile(path.join(root, 'a', '3.png'), realRoot)).rejects.toThrow('not a regular file');
  });
});
