// The Host over `convscope serve`: the contract on a WebSocket to the page's own server, authorised by
// the token in the page's URL; binary frames carry typed arrays; reconnects on its own after a drop.
import * as v from 'valibot';
import { decodePacket, encodePacket } from '../../../src-main/contract/envelope';
import { decodeFrame, encodeFrame } from '../../../src-main/contract/frame';
import { ServerMessageSchema, type ClientMessage, type EngineNotice } from '../../../src-main/contract/wire';
import { RpcClient } from './client';
import type { ConnectionState, Host } from './host';

/** The WebSocket path `convscope serve` answers on. */
export const SOCKET_PATH = '/ws';
const BACKOFF_MS = [250, 500, 1000, 2000, 4000];

export function socketUrl(page: Location | URL): string {
  const token = new URL(page.href).searchParams.get('token');
  if (!token) throw new Error('This page was opened without its access token: open the full address that `convscope serve` printed (it ends in ?token=...).');
  const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${page.host}${SOCKET_PATH}?token=${encodeURIComponent(token)}`;
}

export function createWebSocketHost(page: Location = window.location): Host {
  const url = socketUrl(page);
  const noticeHandlers = new Set<(n: EngineNotice) => void>();
  const connectionHandlers = new Set<(s: ConnectionState, detail?: string) => void>();
  let state: ConnectionState = 'connecting';
  let detail: string | undefined;
  let socket: WebSocket | null = null;
  let attempt = 0;
  const queue: (string | Uint8Array<ArrayBuffer>)[] = [];

  const setState = (s: ConnectionState, d?: string) => {
    state = s;
    detail = d;
    for (const h of connectionHandlers) h(s, d);
  };

  const client = new RpcClient(
    (message: ClientMessage) => {
      const frame = encodeFrame(encodePacket(message));
      if (socket?.readyState === WebSocket.OPEN) socket.send(frame);
      else if (state === 'closed') throw new Error('not connected to the engine');
      else queue.push(frame);
    },
    (notice) => {
      for (const h of noticeHandlers) h(notice);
    },
  );

  const open = () => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setState('open');
      for (const frame of queue.splice(0)) ws.send(frame);
    };
    ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      let message: unknown;
      try {
        message = decodePacket(decodeFrame(e.data));
      } catch (err) {
        console.warn('ConvScope: dropped an unreadable message from the engine', err);
        return;
      }
      const checked = v.safeParse(ServerMessageSchema, message);
      if (checked.success) client.receive(checked.output);
      else console.warn('ConvScope: dropped a message that does not match the contract', checked.issues);
    };
    ws.onclose = (e) => {
      socket = null;
      client.failAll({ code: 'closed', message: 'the connection to the engine closed' });
      // 1008: the server refused the token; retrying cannot help.
      if (e.code === 1008 || e.code === 4401 || e.code === 4403) {
        setState('closed', 'The server refused this page’s token: open the address `convscope serve` printed.');
        return;
      }
      const wait = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)];
      setState('reconnecting', `connection lost; retrying in ${(wait / 1000).toFixed(1)} s`);
      setTimeout(open, wait);
    };
  };
  open();

  return {
    transport: 'web',
    call: (method, params, options) => client.call(method, params, options?.signal),
    subscribe: (method, params, handlers) => client.subscribe(method, params, handlers),
    onNotice(handler) {
      noticeHandlers.add(handler);
      return () => noticeHandlers.delete(handler);
    },
    onConnection(handler) {
      connectionHandlers.add(handler);
      handler(state, detail);
      return () => connectionHandlers.delete(handler);
    },
  };
}
