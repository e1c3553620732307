// Which image formats ConvScope reads, told by a file's content (never its name): one list for the
// decoder, folder datasets and the app's Open dialog. No sharp here, so the app's main process can import it.

/** Formats the decoder reads, as sharp's metadata names them (AVIF is 'heif' with AV1 compression). */
export const READ_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'];

/** File name extensions of the formats read: what folder datasets list and the Open dialog offers. */
export const READ_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/**
 * Extensions of image formats that are refused (each with its reason, from the content): folder datasets
 * list these too so that such files are reported as skipped rather than silently ignored.
 */
export const REFUSED_EXTENSIONS: readonly string[] = ['.bmp', '.dib', '.svg', '.svgz', '.heic', '.heif', '.ico', '.psd', '.jp2', '.j2k', '.jxl', '.pgm', '.ppm', '.pbm', '.pnm'];

export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif' | 'avif' | 'heic' | 'bmp' | 'svg' | 'ico' | 'psd' | 'jpeg2000' | 'jpegxl' | 'pnm';

/** Formats recognised but never read, and what the user is told. */
const REFUSED: Partial<Record<SniffedFormat, string>> = {
  bmp: 'BMP images are not read',
  svg: 'SVG images are not read (they can refer to other files)',
  heic: 'HEIC (HEVC) images are not read',
  ico: 'ICO icons are not read',
  psd: 'Photoshop (PSD) files are not read',
  jpeg2000: 'JPEG 2000 images are not read',
  jpegxl: 'JPEG XL images are not read',
  pnm: 'PNM/PGM/PPM images are not read',
};

/** Bytes of a file's start that sniffFormat needs (an SVG may open with a long comment or doctype). */
export const SNIFF_BYTES = 4096;

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));

function brandOf(head: Uint8Array): SniffedFormat | null {
  // ISO BMFF: size, 'ftyp', major brand, minor version, compatible brands
  if (ascii(head, 4, 8) !== 'ftyp') return null;
  const brands = [ascii(head, 8, 12)];
  const size = Math.min((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3], 64, head.length);
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(head, at, at + 4));
  if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis'].includes(b))) return 'heic';
  if (brands.some((b) => b === 'mif1' || b === 'msf1')) return 'heif';
  if (brands.some((b) => b === 'jp2 ' || b === 'jpx ')) return 'jpeg2000';
  if (brands.some((b) => b === 'jxl ')) return 'jpegxl';
  return null;
}

/** The format a file's first bytes (SNIFF_BYTES of them) say it is, or null when they say nothing known. */
export function sniffFormat(head: Uint8Array): SniffedFormat | null {
  const b = head;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(b, 0, 4) === 'GIF8') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*' || ascii(b, 0, 4) === 'II+\0' || ascii(b, 0, 4) === 'MM\0+') return 'tiff';
  const boxed = brandOf(b);
  if (boxed) return boxed;
  if (ascii(b, 0, 2) === 'BM' && b.length >= 26) return 'bmp';
  if (b[0] === 0 && b[1] === 0 && (b[2] === 1 || b[2] === 2) && b[3] === 0) return 'ico';
  if (ascii(b, 0, 4) === '8BPS') return 'psd';
  if (ascii(b, 0, 12) === '\0\0\0\x0cjP  \r\n\x87\n' || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)) return 'jpeg2000';
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(b, 0, 12) === '\0\0\0\x0cJXL \r\n\x87\n') return 'jpegxl';
  if (b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x37 && (b[2] === 0x0a || b[2] === 0x20 || b[2] === 0x0d || b[2] === 0x09)) return 'pnm';
  if (b[0] === 0x1f && b[1] === 0x8b) return null; // gzip: could be SVGZ; sharp's answer decides (refused unless a read format)
  if (/<svg[\s>]/i.test(new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, SNIFF_BYTES)))) return 'svg';
  return null;
}

/** Why a sniffed format is refused, or null when the decoder reads it. */
export function refusedBecause(format: SniffedFormat | null): string | null {
  return format ? (REFUSED[format] ?? null) : null;
}
