// Decodes the formats of image-formats.ts (PNG, JPEG, WebP, GIF's first frame, TIFF's first page, AVIF) into
// HWC uint8 pixels of a chosen size and channel count: EXIF orientation applied, ICC profiles and CMYK
// converted to sRGB, alpha flattened, 16-bit / palette / grey turned into 8-bit sRGB or grey. The format is
// told by the content, never the name; others (SVG, BMP, HEIC, ...) are refused before any decoder runs.
// Every failure is an ImageDecodeError with a code. tests/engine/image-corpus.test.ts holds it to files
// made by other tools.
import path from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { ConvscopeError } from '../errors';
import { readImageFile } from './read-image-file';
import { READ_FORMATS, refusedBecause, SNIFF_BYTES, sniffFormat, type SniffedFormat } from './image-formats';

export type ImageDecodeErrorCode = 'empty-file' | 'not-an-image' | 'unsupported-format' | 'corrupt-image' | 'too-many-pixels' | 'unreadable-file';

export class ImageDecodeError extends ConvscopeError {
  declare readonly code: ImageDecodeErrorCode;
  constructor(
    message: string,
    code: ImageDecodeErrorCode,
    /** The file name, or the caller's name for a buffer ('image' when none). */
    readonly source: string,
  ) {
    super(message, code);
    this.name = 'ImageDecodeError';
  }
}

export type ImageInput = Uint8Array | string;

/**
 * Images over this many pixels are refused from their header, before any pixel is decoded. 100 MP is above
 * any phone or camera photo in ordinary use; a decompression bomb claims far more.
 */
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;

export interface ImageInfo {
  /** sharp's decoder name: 'jpeg', 'png', 'webp', 'gif', 'tiff', ... */
  format: string;
  /** Size as displayed, i.e. after the EXIF orientation. */
  width: number;
  height: number;
  /** Bands in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA or CMYK. */
  channels: number;
  /** sharp's colour space name: 'srgb', 'b-w', 'cmyk', 'rgb16', 'grey16', ... */
  space: string;
  hasAlpha: boolean;
  /** EXIF orientation tag (1 when absent). */
  orientation: number;
}

export interface ReadOptions {
  /** Name used in error messages for a buffer input (a file input is named by its path). */
  name?: string;
  maxInputPixels?: number;
}

export interface DecodeOptions extends ReadOptions {
  channels: 1 | 3;
  /** Output size; leave both out to keep the (oriented) original size. */
  width?: number;
  height?: number;
  /** 'cover-center' (default): scale so the image covers width x height, crop the centre. 'stretch': ignore aspect ratio. */
  fit?: 'cover-center' | 'stretch';
  /**
   * What transparent pixels become. White (default, and what folder datasets store for training) keeps dark
   * drawings on transparent backgrounds visible.
   */
  background?: 'white' | 'black';
}

export interface DecodedImage {
  /** HWC, row-major, uint8. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  original: ImageInfo;
}

function sourceName(input: ImageInput, options: ReadOptions): string {
  return typeof input === 'string' ? path.basename(input) : (options.name ?? 'image');
}

/** Longest libvips explanation kept in a message. */
const MAX_DETAIL = 200;

/**
 * libvips' message as one short line: its repeated per-decoder lines ("VipsJpeg: premature end of JPEG image"
 * five times, "bad seek to 1024", "bad seek to 896", ...) become each distinct problem once, without the
 * decoder prefixes (the decoder reads bytes, never a path, so no path is in it).
 */
function oneLine(message: string): string {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of message.split(/\r?\n/)) {
    const line = raw
      .replace(/^Input (file|buffer) has corrupt header:\s*/i, '')
      .replace(/^(Vips\w*|vips_\w+|\w+load(_\w+)?):\s*/, '')
      .trim();
    const shape = line.toLowerCase().replace(/\d+/g, '#');
    if (line && !seen.has(shape)) {
      seen.add(shape);
      problems.push(line);
    }
  }
  const joined = problems.join('; ');
  return joined.length > MAX_DETAIL ? `${joined.slice(0, MAX_DETAIL - 3)}...` : joined;
}

/** libvips cannot address a side longer than this (VIPS_MAX_COORD). */
export const MAX_IMAGE_SIDE = 10_000_000;

function tooLarge(source: string, width: number, height: number, problem: string): ImageDecodeError {
  return new ImageDecodeError(`${source}: image is ${width}x${height}, ${problem}`, 'too-many-pixels', source);
}

function refused(source: string, reason: string): ImageDecodeError {
  return new ImageDecodeError(`${source}: ${reason}; convert it to PNG or JPEG`, 'unsupported-format', source);
}

function describeFailure(err: unknown, source: string, sniffed: SniffedFormat | null): ImageDecodeError {
  if (err instanceof ImageDecodeError) return err;
  const message = oneLine(err instanceof Error ? err.message : String(err));
  if (/unsupported image format/i.test(message)) {
    // The first bytes say a format that is read, but the decoder cannot find its header: cut or damaged.
    if (sniffed && READ_FORMATS.includes(sniffed === 'avif' ? 'heif' : sniffed)) {
      return new ImageDecodeError(`${source}: corrupt or truncated image (a ${sniffed.toUpperCase()} file whose header cannot be read)`, 'corrupt-image', source);
    }
    return new ImageDecodeError(`${source}: not a recognised image format`, 'not-an-image', source);
  }
  if (/Buffer is empty/i.test(message)) return new ImageDecodeError(`${source}: empty file`, 'empty-file', source);
  return new ImageDecodeError(`${source}: corrupt or truncated image (${message})`, 'corrupt-image', source);
}

/**
 * The input's bytes: a file is read once, from one open handle (read-image-file.ts), so the content sniffed is
 * the content decoded. Refuses an empty or unreadable input.
 */
async function bytesOf(input: ImageInput, source: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await readImageFile(input) : Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ImageDecodeError(`${source}: cannot read the file (${message})`, 'unreadable-file', source);
  }
  if (bytes.length === 0) throw new ImageDecodeError(`${source}: empty file`, 'empty-file', source);
  return bytes;
}

/** Reads the header only: format, size, colour mode. Refuses empty, non-image, refused-format and over-limit inputs. */
export async function readImageInfo(input: ImageInput, options: ReadOptions = {}): Promise<ImageInfo> {
  const source = sourceName(input, options);
  return (await readHeader(await bytesOf(input, source), source, options)).info;
}

async function readHeader(bytes: Buffer, source: string, options: ReadOptions): Promise<{ info: ImageInfo; sniffed: SniffedFormat | null }> {
  const limit = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  // The content decides, before any decoder sees it: an SVG named .png is still refused.
  const sniffed = sniffFormat(bytes.subarray(0, SNIFF_BYTES));
  const refusal = refusedBecause(sniffed);
  if (refusal) throw refused(source, refusal);
  let meta: Metadata;
  try {
    // No pixel limit here: this reads the header so that the limit can be reported with the real size.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw describeFailure(err, source, sniffed);
  }
  if (meta.format === 'heif' && meta.compression !== 'av1') throw refused(source, refusedBecause('heic')!);
  if (!READ_FORMATS.includes(meta.format)) throw refused(source, `${meta.format.toUpperCase()} images are not read`);
  if (!(meta.width > 0 && meta.height > 0)) {
    throw new ImageDecodeError(`${source}: corrupt image (no size in its header)`, 'corrupt-image', source);
  }
  if (Math.max(meta.width, meta.height) > MAX_IMAGE_SIDE) throw tooLarge(source, meta.width, meta.height, `a side longer than ${MAX_IMAGE_SIDE.toLocaleString('en-US')} pixels, the most the decoder can handle`);
  const pixels = meta.width * meta.height;
  if (pixels > limit) {
    throw new ImageDecodeError(
      `${source}: image is ${meta.width}x${meta.height} (${pixels.toLocaleString('en-US')} pixels), over the limit of ${limit.toLocaleString('en-US')} pixels`,
      'too-many-pixels',
      source,
    );
  }
  const info: ImageInfo = {
    format: meta.format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    channels: meta.channels,
    space: meta.space,
    hasAlpha: meta.hasAlpha,
    orientation: meta.orientation ?? 1,
  };
  return { info, sniffed };
}

function checkSize(options: DecodeOptions): void {
  const { width, height } = options;
  if ((width === undefined) !== (height === undefined)) throw new Error('decodeImage: give both width and height, or neither');
  for (const v of [width, height]) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`decodeImage: width and height must be whole numbers >= 1, got ${width}x${height}`);
  }
  if (options.channels !== 1 && options.channels !== 3) throw new Error(`decodeImage: channels must be 1 or 3, got ${String(options.channels)}`);
}

/** Refuses an image so long and thin that scaling it to cover the output would make an image too large to hold. */
function checkCoverScale(info: ImageInfo, options: DecodeOptions, source: string, limit: number): void {
  if (options.width === undefined || options.height === undefined || options.fit === 'stretch') return;
  const scale = Math.max(options.width / info.width, options.height / info.height);
  const [w, h] = [Math.round(info.width * scale), Math.round(info.height * scale)];
  if (Math.max(w, h) > MAX_IMAGE_SIDE || w * h > limit) {
    throw tooLarge(source, info.width, info.height, `too long and thin to crop to ${options.width}x${options.height}: scaling it would make a ${w}x${h} image`);
  }
}

export async function decodeImage(input: ImageInput, options: DecodeOptions): Promise<DecodedImage> {
  checkSize(options);
  const source = sourceName(input, options);
  const bytes = await bytesOf(input, source);
  const { info: original, sniffed } = await readHeader(bytes, source, options);
  const limit = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  checkCoverScale(original, options, source, limit);
  // failOn 'error': refuse truncated or broken pixel data but accept files that only raise warnings
  // (extraneous bytes, odd markers), which are common in real photo collections.
  let pipeline = sharp(bytes, { limitInputPixels: limit, failOn: 'error', autoOrient: true, pages: 1 })
    .flatten({ background: options.background === 'black' ? '#000000' : '#ffffff' })
    .toColourspace(options.channels === 1 ? 'b-w' : 'srgb');
  if (options.width !== undefined && options.height !== undefined) {
    pipeline =
      options.fit === 'stretch'
        ? pipeline.resize(options.width, options.height, { fit: 'fill' })
        : pipeline.resize(options.width, options.height, { fit: 'cover', position: 'centre' });
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw describeFailure(err, source, sniffed);
  }
  if (out.info.channels !== options.channels) {
    throw new Error(`decodeImage: ${source} came out with ${out.info.channels} channels instead of ${options.channels}`);
  }
  return {
    data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength),
    width: out.info.width,
    height: out.info.height,
    channels: options.channels,
    original,
  };
}

/** The paper's preprocessing: scale the shorter side to `size`, then take the central size x size square. */
export function resizeShorterAndCenterCrop(
  input: ImageInput,
  size: number,
  options: Omit<DecodeOptions, 'width' | 'height' | 'fit'> = { channels: 3 },
): Promise<DecodedImage> {
  return decodeImage(input, { ...options, width: size, height: size, fit: 'cover-center' });
}
