// A folder dataset reads only files inside its folder: symbolic links to files elsewhere are not read
// (their pixels would leave a folder the web host allowed), links within it are; FIFOs are never opened.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFolderDataset } from '../../src-main/engine/data/folder';

let tmp: string;
let root: string;

const png = (file: string, value: number) =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: value, g: value, b: value } } })
    .png()
    .toFile(file);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'convscope-links-'));
  root = path.join(tmp, 'ds');
  const outside = path.join(tmp, 'outside');
  await mkdir(path.join(root, 'a', 'sub'), { recursive: true });
  await mkdir(path.join(root, 'b'), { recursive: true });
  await mkdir(outside);
  await png(path.join(root, 'a', 'own.png'), 10);
  await png(path.join(root, 'b', 'other.png'), 20);
  await png(path.join(outside, 'secret.png'), 250);
  await symlink(path.join(outside, 'secret.png'), path.join(root, 'a', 'absolute-out.png'));
  await symlink('../../outside/secret.png', path.join(root, 'b', 'relative-out.png'));
  await symlink('../b/other.png', path.join(root, 'a', 'inside.png'));
  await symlink(outside, path.join(root, 'a', 'linked-dir'));
  await symlink(outside, path.join(root, 'c'));
  execFileSync('mkfifo', [path.join(root, 'a', 'sub', 'pipe.png')]);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('folder datasets and symbolic links', () => {
  it('reads files and links within the folder, and no link leading out of it', async () => {
    const warnings: string[] = [];
    const ds = await openFolderDataset(root, { inputSize: 8, cacheDir: path.join(tmp, 'cache'), onWarning: (w) => warnings.push(w) });
    expect(ds.classNames).toEqual(['a', 'b']);
    expect([...ds.train.files].map((f) => path.relative(root, f)).sort()).toEqual(['a/inside.png', 'a/own.png', 'b/other.png']);
    expect(ds.skipped).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^2 symbolic link\(s\) leading outside .* were not read/)]);
    const { images } = await ds.train.read(Array.from({ length: ds.train.count }, (_, i) => i));
    // No pixel of the outside image (250) made it in.
    expect(Math.max(...images)).toBeLessThan(200);
  }, 30_000);
});
