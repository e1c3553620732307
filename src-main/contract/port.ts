// The one port shape every transport is adapted to, and adapters for the two that work in any
// JavaScript environment: a MessagePort (DOM, or Node's worker_threads) and a WebSocket (browser, or
// the `ws` package's client). Process IPC and Electron's MessagePortMain adapters live beside their hosts.
import { compactForClone, isPacket, transferList, type Packet } from './envelope';
import { decodeFrame, encodeFrame, FrameError, type FrameLimits } from './frame';
import { salvageId } from './wire';

export interface PacketPort {
  /** transfer: buffers the transport may move instead of copying (ignored where it cannot). */
  postMessage(packet: Packet, transfer?: ArrayBuffer[]): void;
  /** Delivers whatever arrives, unchecked; returns a function that stops the delivery. */
  onMessage(listener: (message: unknown) => void): () => void;
  onClose?(listener: () => void): () => void;
  close?(): void;
}

/** What the receivers get for a frame that could not be decoded (it is not a packet, so it fails their checks). */
export interface UndecodableFrame {
  undecodable: string;
  /** The message's id where the frame's header was readable. */
  id: number | null;
}

interface DomLikePort {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message' | 'close', listener: (event: { data?: unknown }) => void): void;
  removeEventListener(type: 'message' | 'close', listener: (event: { data?: unknown }) => void): void;
  start?(): void;
  close?(): void;
}

/**
 * A DOM MessagePort (or a Node worker_threads one). With transfer: true the packet's buffers are moved,
 * not copied: the arrays sent are unusable afterwards on this side.
 */
export function messagePortTransport(port: DomLikePort, options: { transfer?: boolean } = {}): PacketPort {
  const transport: PacketPort = {
    postMessage(packet) {
      const compact = compactForClone(packet);
      port.postMessage(compact, options.transfer ? transferList(compact) : []);
    },
    onMessage(listener) {
      const handler = (event: { data?: unknown }) => listener(event.data);
      port.addEventListener('message', handler);
      port.start?.();
      return () => port.removeEventListener('message', handler);
    },
    onClose(listener) {
      const handler = () => listener();
      port.addEventListener('close', handler);
      return () => port.removeEventListener('close', handler);
    },
    close: () => port.close?.(),
  };
  return transport;
}

interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  addEventListener(type: 'message' | 'close' | 'open', listener: (event: { data?: unknown }) => void): void;
  removeEventListener(type: 'message' | 'close' | 'open', listener: (event: { data?: unknown }) => void): void;
  close(code?: number, reason?: string): void;
}

const CONNECTING = 0;
const OPEN = 1;

/** A WebSocket carrying frames (frame.ts); messages sent while it is still connecting wait for it to open. */
export function webSocketTransport(ws: WebSocketLike): PacketPort {
  ws.binaryType = 'arraybuffer';
  const waiting: (string | Uint8Array)[] = [];
  if (ws.readyState === CONNECTING) {
    const onOpen = () => {
      ws.removeEventListener('open', onOpen);
      for (const frame of waiting.splice(0)) ws.send(frame);
    };
    ws.addEventListener('open', onOpen);
  }
  return {
    postMessage(packet) {
      const frame = encodeFrame(packet);
      if (ws.readyState === CONNECTING || waiting.length > 0) waiting.push(frame);
      else if (ws.readyState === OPEN) ws.send(frame);
    },
    onMessage(listener) {
      const handler = (event: { data?: unknown }) => listener(decodeIncoming(event.data));
      ws.addEventListener('message', handler);
      return () => ws.removeEventListener('message', handler);
    },
    onClose(listener) {
      const handler = () => listener();
      ws.addEventListener('close', handler);
      return () => ws.removeEventListener('close', handler);
    },
    close: () => ws.close(1000, 'closed'),
  };
}

/** A frame as a packet, or an UndecodableFrame saying what is wrong with it (never throws). */
export function decodeIncoming(data: unknown, limits?: FrameLimits): Packet | UndecodableFrame {
  try {
    if (typeof data === 'string' || data instanceof ArrayBuffer || data instanceof Uint8Array) return decodeFrame(data, limits);
    return { undecodable: 'frame is neither text nor binary', id: null };
  } catch (err) {
    return { undecodable: err instanceof Error ? err.message : String(err), id: err instanceof FrameError ? salvageId(err.meta) : null };
  }
}

export { isPacket };
