// The Host over `convscope serve`: the contract on a WebSocket to the page's own server, authorised by
// the token in the page's URL. Binary frames carry typed arrays (contract/frame.ts). After a drop it
// reconnects on its own; requests in flight then fail with 'closed' and views ask again.
import { EngineClient } from '../../../src-main/contract/client';
import { CLOSE_TOKEN_REFUSED, CLOSE_TOO_SLOW } from '../../../src-main/contract/wire';
import { createEngineApi } from '../../../src-main/contract/engine-api';
import { webSocketTransport } from '../../../src-main/contract/port';
import { hostFromApi, type ConnectionState, type Host } from './host';

/** The WebSocket path `convscope serve` answers on. */
export const SOCKET_PATH = '/ws';
const BACKOFF_MS = [250, 500, 1000, 2000, 4000];

export function socketUrl(page: { href: string; protocol: string; host: string }): string {
  const token = new URL(page.href).searchParams.get('token');
  if (!token) throw new Error('This page was opened without its access token: open the full address that `convscope serve` printed (it ends in ?token=...).');
  const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${page.host}${SOCKET_PATH}?token=${encodeURIComponent(token)}`;
}

export function createWebSocketHost(page: Location = window.location): Host {
  const url = socketUrl(page);
  const listeners = new Set<(s: ConnectionState, detail?: string) => void>();
  let state: ConnectionState = 'connecting';
  let detail: string | undefined;
  let attempt = 0;
  const client = new EngineClient(undefined, { onProtocolError: (e) => console.warn(`ConvScope: ${e.message}`) });

  const setState = (s: ConnectionState, d?: string) => {
    state = s;
    detail = d;
    for (const l of listeners) l(s, d);
  };

  const open = () => {
    const ws = new WebSocket(url);
    // Attached at once: requests made while it connects wait in the transport for it to open.
    // (The DOM's send() takes only ArrayBuffer-backed arrays; the frames are, the contract's type says Uint8Array.)
    client.attach(webSocketTransport(ws as unknown as Parameters<typeof webSocketTransport>[0]), 'closed');
    ws.addEventListener('open', () => {
      attempt = 0;
      setState('open');
    });
    ws.addEventListener('close', (e) => {
      // A wrong or stale token (the server closes with this code rather than failing the upgrade, which
      // a page would see only as 1006): retrying cannot help.
      if (e.code === CLOSE_TOKEN_REFUSED) {
        setState('closed', 'The server refused this page’s token: open the address `convscope serve` printed.');
        return;
      }
      const wait = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)];
      const why = e.code === CLOSE_TOO_SLOW ? 'the server dropped this page: it left too many replies unread' : 'connection lost';
      setState('reconnecting', `${why}; retrying in ${(wait / 1000).toFixed(1)} s`);
      setTimeout(open, wait);
    });
  };
  open();

  return hostFromApi('web', createEngineApi(client), null, (handler) => {
    listeners.add(handler);
    handler(state, detail);
    return () => listeners.delete(handler);
  });
}
