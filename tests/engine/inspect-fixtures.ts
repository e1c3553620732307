// Real image files of every kind inspection must read, made with sharp, plus the bad inputs it must refuse.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

/** 64x48 RGB: left half red, right half blue, with a white square in the top-left quarter. */
export function testPattern(width = 64, height = 48): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (x < width / 4 && y < height / 4) raw.set([255, 255, 255], o);
      else raw.set(x < width / 2 ? [220, 20, 30] : [20, 40, 200], o);
    }
  }
  return raw;
}

const raw = (width = 64, height = 48) => sharp(testPattern(width, height), { raw: { width, height, channels: 3 } });

/** Writes one file of each kind into dir; returns kind -> path. */
export async function writeImageFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, () => Promise<Buffer>> = {
    'png-grey.png': () => raw().greyscale().png().toBuffer(),
    'png-rgb.png': () => raw().png().toBuffer(),
    'png-rgba.png': () => raw().ensureAlpha(0.5).png().toBuffer(),
    'png-palette.png': () => raw().png({ palette: true, colours: 8 }).toBuffer(),
    'jpeg-rgb.jpg': () => raw().jpeg({ quality: 95 }).toBuffer(),
    'jpeg-cmyk.jpg': () => raw().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    // Stored as 48x64 (the pattern turned a quarter anticlockwise) with EXIF orientation 6 (rotate 90° clockwise to display).
    'jpeg-exif-rotated.jpg': async () => {
      const turned = await raw().rotate(-90).raw().toBuffer();
      return sharp(turned, { raw: { width: 48, height: 64, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    },
    'webp.webp': () => raw().webp({ lossless: true }).toBuffer(),
    'gif.gif': () => raw().gif().toBuffer(),
  };
  const out: Record<string, string> = {};
  for (const [name, make] of Object.entries(files)) {
    out[name] = path.join(dir, name);
    await writeFile(out[name], await make());
  }
  return out;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header claiming width x height grey pixels (with a single row of data): tiny on disk. */
export function hugePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(width + 1))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The bad inputs: 0 bytes, text, a JPEG cut in half, a 30000x30000 PNG. */
export async function badImages(): Promise<Record<string, Uint8Array>> {
  const jpeg = await raw(256, 256).jpeg().toBuffer();
  return {
    empty: new Uint8Array(0),
    text: new TextEncoder().encode('this is not an image, it is a sentence\n'),
    truncated: jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    huge: hugePng(30000, 30000),
  };
}
