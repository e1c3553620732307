// WebSocket frames for packets: a text frame (JSON) when a message has no buffers; otherwise one binary
// frame: u32 LE header length, UTF-8 JSON header {m: meta, b: [byte lengths]}, then each buffer, every
// part starting at a multiple of 8 bytes so typed arrays can view the frame without copying.
import type { Packet } from './envelope';

export class FrameError extends Error {
  /** The header's message when the header was readable (so an error reply can name the request's id). */
  readonly meta: unknown;
  constructor(message: string, meta?: unknown) {
    super(message);
    this.name = 'FrameError';
    this.meta = meta;
  }
}

const ALIGN = 8;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(packet: Packet): string | Uint8Array<ArrayBuffer> {
  if (packet.buffers.length === 0) return JSON.stringify(packet.meta);
  const header = encoder.encode(JSON.stringify({ m: packet.meta, b: packet.buffers.map((b) => b.byteLength) }));
  let size = align(4 + header.byteLength);
  for (const b of packet.buffers) size = align(size + b.byteLength);
  const frame = new Uint8Array(size);
  new DataView(frame.buffer).setUint32(0, header.byteLength, true);
  frame.set(header, 4);
  let offset = align(4 + header.byteLength);
  for (const b of packet.buffers) {
    frame.set(b, offset);
    offset = align(offset + b.byteLength);
  }
  return frame;
}

/** Bounds on what a frame may ask the decoder to build (a host sets them for frames from clients). */
export interface FrameLimits {
  /** The longest JSON text (a text frame, or a binary frame's header), in characters or bytes. */
  maxJsonLength?: number;
  /** The most buffers one binary frame may carry. */
  maxBuffers?: number;
}

export function decodeFrame(data: string | ArrayBuffer | Uint8Array, limits: FrameLimits = {}): Packet {
  const maxJson = limits.maxJsonLength ?? Infinity;
  if (typeof data === 'string') {
    if (data.length > maxJson) throw new FrameError(`text frame longer than ${maxJson} characters`);
    return { meta: parseJson(data), buffers: [] };
  }
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength < 4) throw new FrameError('binary frame shorter than its header length');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + headerLength > bytes.byteLength) throw new FrameError('binary frame shorter than its header');
  if (headerLength > maxJson) throw new FrameError(`frame header longer than ${maxJson} bytes`);
  let headerText: string;
  try {
    headerText = decoder.decode(bytes.subarray(4, 4 + headerLength));
  } catch {
    throw new FrameError('frame header is not UTF-8');
  }
  const header = parseJson(headerText) as { m?: unknown; b?: unknown };
  if (typeof header !== 'object' || header === null || Array.isArray(header) || !('m' in header)) throw new FrameError('frame header lacks m');
  if (!Array.isArray(header.b)) throw new FrameError('frame header lacks b', header.m);
  if (header.b.length > (limits.maxBuffers ?? Infinity)) throw new FrameError(`frame carries more than ${limits.maxBuffers} buffers`, header.m);
  const buffers: Uint8Array[] = [];
  let offset = align(4 + headerLength);
  for (const length of header.b) {
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw new FrameError('frame header has a bad buffer length', header.m);
    if (offset + length > bytes.byteLength) throw new FrameError('frame shorter than its buffers', header.m);
    buffers.push(bytes.subarray(offset, offset + length));
    offset = align(offset + length);
  }
  return { meta: header.m, buffers };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FrameError(`frame is not JSON: ${(err as Error).message}`);
  }
}
