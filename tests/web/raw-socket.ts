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
  let head: Buffer = Buffer.alloc(0);
  let upgraded = false;
  let total = 0;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Bytes the next whole frame needs (0: its header is not complete yet). */
  let need = 0;
  const frames: ServerFrame[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      if (!upgraded) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = head.subarray(0, end).toString();
        if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${status.split('\r\n')[0]}`));
        upgraded = true;
        chunk = head.subarray(end + 4);
        resolve();
      }
      total += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Joined only once a whole frame is there (joining every chunk would copy a large frame over and over).
      if (need > 0 && pendingBytes < need) return;
      const rest = parseFrames(Buffer.concat(pending.splice(0)), frames);
      pending.push(rest);
      pendingBytes = rest.length;
      need = frameSize(rest);
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

/** The size of the frame starting `buffer` (header and payload), or 0 while its header is incomplete. */
function frameSize(buffer: Buffer): number {
  if (buffer.length < 2) return 0;
  const length = buffer[1] & 0x7f;
  if (length < 126) return 2 + length;
  if (length === 126) return buffer.length < 4 ? 0 : 4 + buffer.readUInt16BE(2);
  return buffer.length < 10 ? 0 : 10 + Number(buffer.readBigUInt64BE(2));
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
