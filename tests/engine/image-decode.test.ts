import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp, { type Create, type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, readImageInfo, resizeShorterAndCenterCrop } from '../../src-main/engine/data/image-decode';
import { MAX_IMAGE_FILE_BYTES } from '../../src-main/engine/data/read-image-file';

let dir: string;
const file = (name: string) => path.join(dir, name);

const RED = { r: 220, g: 20, b: 30 };

function crc32(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    let c = (crc ^ byte) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid PNG header claiming width x height grey pixels, with one row of data: tiny on disk. */
function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(width + 1))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** 300x200, three vertical bands of 100 px: red, green, blue. */
function bands(): Sharp {
  const raw = Buffer.alloc(300 * 200 * 3);
  for (let y = 0; y < 200; y++) {
    for (let x = 0; x < 300; x++) raw[(y * 300 + x) * 3 + Math.floor(x / 100)] = 255;
  }
  return sharp(raw, { raw: { width: 300, height: 200, channels: 3 } });
}

function pixel(img: { data: Uint8Array; width: number; channels: number }, x: number, y: number): number[] {
  const at = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(at, at + img.channels));
}

function expectClose(actual: number[], expected: number[], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `channel ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'convscope-decode-'));
  const solid = (channels: 3 | 4, background: Create['background']) => sharp({ create: { width: 40, height: 30, channels, background } });
  await solid(3, RED).png().toFile(file('rgb.png'));
  await solid(3, { r: 100, g: 100, b: 100 }).toColourspace('b-w').png().toFile(file('grey.png'));
  await solid(4, { r: 0, g: 0, b: 0, alpha: 0 }).png().toFile(file('transparent.png'));
  await solid(4, { r: 0, g: 0, b: 0, alpha: 0.5 }).png().toFile(file('half-alpha.png'));
  await solid(3, RED).png({ palette: true }).toFile(file('palette.png'));
  await solid(3, RED).toColourspace('rgb16').png().toFile(file('deep.png'));
  await solid(3, RED).jpeg({ quality: 95 }).toFile(file('rgb.jpg'));
  await solid(3, RED).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(file('cmyk.jpg'));
  await solid(3, RED).webp({ lossless: true }).toFile(file('rgb.webp'));
  // Two-frame GIF: first frame white, second black.
  const frames = Buffer.alloc(8 * 8 * 3 * 2);
  frames.fill(255, 0, 8 * 8 * 3);
  await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } }).gif().toFile(file('anim.gif'));
  // 40 wide x 20 high, red square at the top-left, stored with EXIF orientation 6 (rotate 90 clockwise to display).
  const square = await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .composite([{ input: square, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(file('rotated.jpg'));
  await bands().png().toFile(file('bands.png'));
  await writeFile(file('empty.png'), Buffer.alloc(0));
  await writeFile(file('text.jpg'), 'this is not a picture, just some words\n');
  const jpeg = await bands().jpeg().toBuffer();
  await writeFile(file('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  await writeFile(file('huge.png'), hugePngHeader(30000, 30000));
  // Real one-row images: every pixel is there (a row of zeros deflates to almost nothing).
  await writeFile(file('wide.png'), hugePngHeader(100_000_000, 1));
  await writeFile(file('thin.png'), hugePngHeader(5_000_000, 1));
  // The JPEG's headers up to its scan marker, no scan data.
  await writeFile(file('header-only.jpg'), jpeg.subarray(0, jpeg.indexOf(Buffer.from([0xff, 0xda])) + 2));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeImage: colour modes and formats', () => {
  it('keeps the pixels of an RGB PNG at its own size', async () => {
    const img = await decodeImage(file('rgb.png'), { channels: 3 });
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([40, 30, 3, 40 * 30 * 3]);
    expect(pixel(img, 7, 9)).toEqual([RED.r, RED.g, RED.b]);
    expect(img.original).toMatchObject({ format: 'png', width: 40, height: 30, channels: 3, hasAlpha: false });
  });

  it('gives grey as one channel or as three equal channels', async () => {
    const one = await decodeImage(file('grey.png'), { channels: 1 });
    expect(one.original).toMatchObject({ channels: 1, space: 'b-w' });
    expect(pixel(one, 3, 3)).toEqual([100]);
    const three = await decodeImage(file('grey.png'), { channels: 3 });
    expect(pixel(three, 3, 3)).toEqual([100, 100, 100]);
  });

  it('turns colour into one grey channel when asked', async () => {
    const grey = await decodeImage(file('rgb.png'), { channels: 1 });
    expect(grey.data.length).toBe(40 * 30);
    const v = pixel(grey, 0, 0)[0];
    expect(v).toBeGreaterThan(RED.g);
    expect(v).toBeLessThan(RED.r);
  });

  it('flattens alpha on white by default and on black on request', async () => {
    expect(pixel(await decodeImage(file('transparent.png'), { channels: 3 }), 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(await decodeImage(file('transparent.png'), { channels: 3, background: 'black' }), 0, 0)).toEqual([0, 0, 0]);
    const half = await decodeImage(file('half-alpha.png'), { channels: 1 });
    expect(half.original).toMatchObject({ channels: 4, hasAlpha: true });
    expectClose(pixel(half, 0, 0), [128], 1);
  });

  it('reads palette PNG, 16-bit PNG, JPEG, CMYK JPEG and WebP as 8-bit sRGB', async () => {
    expect(pixel(await decodeImage(file('palette.png'), { channels: 3 }), 1, 1)).toEqual([RED.r, RED.g, RED.b]);

    const deep = await decodeImage(file('deep.png'), { channels: 3 });
    expect(deep.original.space).toBe('rgb16');
    expect(pixel(deep, 1, 1)).toEqual([RED.r, RED.g, RED.b]);

    const jpeg = await decodeImage(file('rgb.jpg'), { channels: 3 });
    expect(jpeg.original.format).toBe('jpeg');
    expectClose(pixel(jpeg, 20, 15), [RED.r, RED.g, RED.b], 6);

    const cmyk = await decodeImage(file('cmyk.jpg'), { channels: 3 });
    expect(cmyk.original).toMatchObject({ format: 'jpeg', space: 'cmyk', channels: 4 });
    expect(cmyk.channels).toBe(3);
    const [r, g, b] = pixel(cmyk, 20, 15);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);

    const webp = await decodeImage(file('rgb.webp'), { channels: 3 });
    expect(webp.original.format).toBe('webp');
    expect(pixel(webp, 5, 5)).toEqual([RED.r, RED.g, RED.b]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const gif = await decodeImage(file('anim.gif'), { channels: 1 });
    expect([gif.width, gif.height]).toEqual([8, 8]);
    expect(gif.original).toMatchObject({ format: 'gif', width: 8, height: 8 });
    expect(pixel(gif, 4, 4)).toEqual([255]);
  });

  it('applies EXIF orientation 6: width and height swap, the top-left corner goes to the top-right', async () => {
    const img = await decodeImage(file('rotated.jpg'), { channels: 3 });
    expect(img.original).toMatchObject({ width: 20, height: 40, orientation: 6 });
    expect([img.width, img.height]).toEqual([20, 40]);
    expectClose(pixel(img, 19, 0), [255, 0, 0], 12);
    expectClose(pixel(img, 0, 0), [0, 0, 255], 12);
    expectClose(pixel(img, 0, 39), [0, 0, 255], 12);
  });

  it('decodes from a buffer as well as a path', async () => {
    const bytes = new Uint8Array(await sharp(file('rgb.png')).png().toBuffer());
    const img = await decodeImage(bytes, { channels: 3, width: 4, height: 4 });
    expect(pixel(img, 2, 2)).toEqual([RED.r, RED.g, RED.b]);
  });
});

describe('resizing', () => {
  it('resizeShorterAndCenterCrop scales the shorter side and keeps the centre', async () => {
    // 300x200 -> 192x128, centre 128 crop keeps original x in [50, 250): red, green, blue from left to right.
    const img = await resizeShorterAndCenterCrop(file('bands.png'), 128);
    expect([img.width, img.height, img.channels]).toEqual([128, 128, 3]);
    expectClose(pixel(img, 3, 64), [255, 0, 0], 8);
    expectClose(pixel(img, 64, 64), [0, 255, 0], 8);
    expectClose(pixel(img, 124, 64), [0, 0, 255], 8);
    // Red and blue each keep 50 of their 100 original columns: 32 of 128 after scaling by 0.64.
    let redColumns = 0;
    for (let x = 0; x < 128; x++) if (pixel(img, x, 64)[0] > 128) redColumns++;
    expect(Math.abs(redColumns - 32)).toBeLessThanOrEqual(1);
  });

  it("'stretch' ignores the aspect ratio and keeps the whole image", async () => {
    const img = await decodeImage(file('bands.png'), { channels: 3, width: 30, height: 10, fit: 'stretch' });
    expectClose(pixel(img, 4, 5), [255, 0, 0], 8);
    expectClose(pixel(img, 15, 5), [0, 255, 0], 8);
    expectClose(pixel(img, 25, 5), [0, 0, 255], 8);
  });

  it('refuses half a size and bad channel counts', async () => {
    await expect(decodeImage(file('rgb.png'), { channels: 3, width: 10 })).rejects.toThrow(/both width and height/);
    await expect(decodeImage(file('rgb.png'), { channels: 2 as 3, width: 10, height: 10 })).rejects.toThrow(/channels must be 1 or 3/);
  });
});

describe('decode errors', () => {
  async function failure(run: Promise<unknown>): Promise<ImageDecodeError> {
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImageDecodeError);
    return err as ImageDecodeError;
  }

  it('0-byte file: empty file', async () => {
    const err = await failure(decodeImage(file('empty.png'), { channels: 3 }));
    expect(err.code).toBe('empty-file');
    expect(err.message).toBe('empty.png: empty file');
    expect((await failure(decodeImage(new Uint8Array(0), { channels: 1, name: 'drop.png' }))).message).toBe('drop.png: empty file');
  });

  it('a text file named .jpg: not a recognised image format', async () => {
    const err = await failure(decodeImage(file('text.jpg'), { channels: 3 }));
    expect(err.code).toBe('not-an-image');
    expect(err.message).toBe('text.jpg: not a recognised image format');
    expect(err.source).toBe('text.jpg');
  });

  it('a truncated JPEG: corrupt or truncated image', async () => {
    // The header is intact, so the size can be read; the pixels cannot.
    expect((await readImageInfo(file('truncated.jpg'))).width).toBe(300);
    const err = await failure(decodeImage(file('truncated.jpg'), { channels: 3, width: 32, height: 32 }));
    expect(err.code).toBe('corrupt-image');
    expect(err.message).toMatch(/^truncated\.jpg: corrupt or truncated image \(.*premature end/i);
  });

  it.each(['truncated.jpg', 'header-only.jpg'])('%s: one line naming the file, each libvips problem once', async (name) => {
    const err = await failure(decodeImage(file(name), { channels: 3, width: 32, height: 32 }));
    expect(err.code).toBe('corrupt-image');
    expect(err.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}: corrupt or truncated image \\(premature end of JPEG image`));
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toMatch(/Vips|corrupt header/);
    expect(err.message.match(/premature end/g)).toHaveLength(1);
  });

  it('a 100000000x1 PNG is refused saying what is wrong: its size', async () => {
    const err = await failure(decodeImage(file('wide.png'), { channels: 3, width: 32, height: 32 }));
    expect(err.code).toBe('too-many-pixels');
    expect(err.message).toBe('wide.png: image is 100000000x1, a side longer than 10,000,000 pixels, the most the decoder can handle');
    const thin = await failure(decodeImage(file('thin.png'), { channels: 3, width: 32, height: 32 }));
    expect(thin.message).toBe('thin.png: image is 5000000x1, too long and thin to crop to 32x32: scaling it would make a 160000000x32 image');
  });

  it('a 30000x30000 header is refused before decoding, naming the size and the limit', async () => {
    const started = performance.now();
    const err = await failure(decodeImage(file('huge.png'), { channels: 1, width: 224, height: 224 }));
    expect(err.code).toBe('too-many-pixels');
    expect(err.message).toBe('huge.png: image is 30000x30000 (900,000,000 pixels), over the limit of 100,000,000 pixels');
    expect(performance.now() - started).toBeLessThan(2000);
    const small = await failure(readImageInfo(file('rgb.png'), { maxInputPixels: 1000 }));
    expect(small.message).toBe('rgb.png: image is 40x30 (1,200 pixels), over the limit of 1,000 pixels');
  });

  it('a missing file: cannot read the file', async () => {
    const err = await failure(decodeImage(file('nowhere.png'), { channels: 3 }));
    expect(err.code).toBe('unreadable-file');
    expect(err.message).toMatch(/^nowhere\.png: cannot read the file/);
  });

  it('a file over the read limit is refused before it is read', async () => {
    const handle = await open(file('huge-file.png'), 'w');
    await handle.truncate(MAX_IMAGE_FILE_BYTES + 1); // sparse: no disk used
    await handle.close();
    const err = await failure(decodeImage(file('huge-file.png'), { channels: 3 }));
    expect(err.code).toBe('unreadable-file');
    expect(err.message).toBe(`huge-file.png: cannot read the file (it is ${MAX_IMAGE_FILE_BYTES + 1} bytes, over the 256 MiB read limit for an image file)`);
  });

  it('a path the user names may be a symbolic link (followed); a FIFO or a folder is refused without waiting', async () => {
    await symlink(file('rgb.png'), file('named-link.png'));
    expect((await readImageInfo(file('named-link.png'))).width).toBe(40);
    execFileSync('mkfifo', [file('pipe.png')]);
    await mkdir(file('folder.png'));
    for (const name of ['pipe.png', 'folder.png']) {
      const err = await failure(decodeImage(file(name), { channels: 3 }));
      expect(err.code).toBe('unreadable-file');
      expect(err.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}: cannot read the file \\((not a regular file|EISDIR)`));
    }
  });
});
