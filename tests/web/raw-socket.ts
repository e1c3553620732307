// A WebSocket client written against TCP directly, so tests can send what no well-behaved library would
// (unmasked frames, reserved opcodes, lying lengths) and read the server's close code.
import { connect, type Socket } from 'node:net';

export interface RawFrame {
  fin?: boolean;
  rsv1?: boolean;
  opcode: number;
  payload?: Uint8Array;
  /** false: an unmasked client frame (forbidden). */
  mask?: boolean;
  /** A payload length to claim instead of the real one (only the header is sent then). */
  claimedLength?: number;
}

export function frameBytes(frame: RawFrame): Buffer {
  const payload = Buffer.from(frame.payload ?? new Uint8Array());
  const length = frame.claimedLength ?? payload.length;
  const mask = frame.mask ?? true;
  const head: number[] = [(frame.fin === false ? 0 : 0x80) | (frame.rsv1 ? 0x40 : 0) | frame.opcode];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 2 ** 16) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = frame.claimedLength !== undefined ? Buffer.alloc(0) : mask ? payload.map((b, i) => b ^ key[i % 4]) : payload;
  return Buffer.concat([Buffer.from(head), mask ? key : Buffer.alloc(0), body]);
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

export interface RawSocket {
  socket: Socket;
  /** Server frames parsed so far. */
  frames: ServerFrame[];
  /** Bytes received after the handshake. */
  received(): number;
  /** The close code the server sent, once it sent one. */
  closeCode(): number | null;
  /** Resolves when the TCP connection has ended. */
  ended: Promise<void>;
}

/** Opens a WebSocket by hand: the HTTP upgrade, then frames both ways. */
export async function openRawSocket(port: number, token: string): Promise<RawSocket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let buffer: Buffer = Buffer.alloc(0);
  let upgraded = false;
  let total = 0;
  const frames: ServerFrame[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve();
      }
      total += chunk.length;
      buffer = parseFrames(buffer, frames);
      // Answering a close frame by hanging up ends the exchange at once (no close timeout on either side).
      if (frames.some((f) => f.opcode === 8)) socket.end();
    });
    socket.once('close', () => reject(new Error('closed before the upgrade')));
  });
  socket.write(
    `GET /ws?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await opened;
  return {
    socket,
    frames,
    received: () => total,
    closeCode: () => {
      const close = frames.find((f) => f.opcode === 8);
      return close ? (close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005) : null;
    },
    ended,
  };
}

function parseFrames(buffer: Buffer, out: ServerFrame[]): Buffer {
  for (;;) {
    if (buffer.length < 2) return buffer;
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return buffer;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return buffer;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return buffer;
    out.push({ opcode: buffer[0] & 0x0f, payload: Buffer.from(buffer.subarray(offset, offset + length)) });
    buffer = buffer.subarray(offset + length);
  }
}
