// `convscope serve`: the built renderer over HTTP and the contract over a token-guarded WebSocket, with
// the engine in a child process. Loopback only unless asked otherwise; the Host and Origin headers must
// name this server (DNS rebinding); requests may name only files under the folders the user opened.
// Nothing a client sends takes the host down: each frame is validated before any field is read, a
// protocol error closes that socket alone, and a client that does not read its replies is paused, then closed.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  checkMethod,
  checkParams,
  CLOSE_TOKEN_REFUSED,
  CLOSE_TOO_SLOW,
  decodeIncoming,
  decodePacket,
  encodeFrame,
  encodePacket,
  errorMessage,
  isSubscription,
  MAX_IMAGE_BYTES,
  readClientMessage,
  requestPaths,
  resultFolders,
  type ErrorInfo,
  type Method,
  type Packet,
  type ServerMessage,
} from '../contract';
import { folderOfId } from '../engine/data/folder-id';
import { EngineProcess } from './engine-process';
import { allowedHosts, BindError, FolderAllowList, hostAllowed, isLoopbackAddress, originAllowed, resolveBindAddress, tokensEqual, type Lookup } from './security';
import { securityHeaders, serveStatic } from './static-files';

export const SOCKET_PATH = '/ws';

/** The largest frame a client may send: an image for `inspect` (MAX_IMAGE_BYTES) and its header. */
export const MAX_FRAME_BYTES = MAX_IMAGE_BYTES + 2 ** 20;
/** A request's JSON is small (paths, names, a few numbers); its only large part, an image, is a buffer. */
const REQUEST_FRAME_LIMITS = { maxJsonLength: 2 ** 20, maxBuffers: 16 };
/** Requests (and live subscriptions) one client may have in flight: a burst beyond is refused, not queued on the engine. */
export const MAX_IN_FLIGHT = 256;
/** Default per-client limits on replies written but not yet read by the client. */
export const DEFAULT_PAUSE_BUFFERED_BYTES = 16 * 2 ** 20;
export const DEFAULT_MAX_BUFFERED_BYTES = 128 * 2 ** 20;

export interface WebHostOptions {
  port?: number;
  host?: string;
  /** Required to bind to anything but a loopback address. */
  allowRemote?: boolean;
  rendererDir: string;
  runsDir: string;
  /** Further folders whose files clients may open (images, models, datasets). */
  openFolders?: string[];
  backend?: string;
  /** Threads of the engine's wasm backend (default: every core). */
  threads?: number;
  /** A fixed token (tests); random otherwise. */
  token?: string;
  /** Above this many unread reply bytes a client's requests are not read until it catches up. */
  pauseBufferedBytes?: number;
  /** Above this many unread reply bytes a client is closed (1013, try again later). */
  maxBufferedBytes?: number;
  /** Name resolution for --host (default: the system's). */
  lookup?: Lookup;
  log?: (line: string) => void;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  engine: EngineProcess;
  allowList: FolderAllowList;
  close(): Promise<void>;
}

interface SocketLimits {
  pauseBufferedBytes: number;
  maxBufferedBytes: number;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const requested = options.host ?? '127.0.0.1';
  const bind = await resolveBindAddress(requested, { allowRemote: options.allowRemote, lookup: options.lookup });
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const token = options.token ?? randomBytes(24).toString('base64url');
  const allowList = new FolderAllowList();
  for (const folder of [options.runsDir, ...(options.openFolders ?? [])]) allowList.add(folder);
  const limits: SocketLimits = {
    pauseBufferedBytes: options.pauseBufferedBytes ?? DEFAULT_PAUSE_BUFFERED_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
  };

  let hosts = new Set<string>();
  const server: Server = createServer((req, res) => {
    // The Host header is not echoed into the CSP of a refused request.
    if (!hostAllowed(req.headers.host, hosts)) {
      res.writeHead(421, { ...securityHeaders(''), 'content-type': 'text/plain' }).end('misdirected request: unknown Host header');
      return;
    }
    serveStatic(options.rendererDir, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, securityHeaders(req.headers.host ?? '')).end();
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw listenError(err, bind, options.port ?? 0);
  }
  server.on('error', (err) => log(`convscope serve: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts([requested], bind, port);
  if (!isLoopbackAddress(bind)) log(`warning: listening on ${bind}, not just this machine; keep the URL's token secret`);
  // Started once the address is ours, so a refused --port or --host leaves no process behind.
  const engine = new EngineProcess({ runsDir: options.runsDir, openFolders: options.openFolders, backend: options.backend, threads: options.threads, log });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error handler off an upgraded socket: without this a reset connection is an uncaught error.
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://host');
    } catch {
      return refuse('400 Bad Request');
    }
    if (url.pathname !== SOCKET_PATH) return refuse('404 Not Found');
    if (!hostAllowed(req.headers.host, hosts)) return refuse('421 Misdirected Request');
    if (!originAllowed(req.headers.origin, hosts)) return refuse('403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err) => log(`convscope serve: closed a client connection: ${err.message}`));
      // Refused after the upgrade, so the page sees why (a failed HTTP upgrade reaches it only as 1006).
      if (!tokensEqual(url.searchParams.get('token'), token)) return ws.close(CLOSE_TOKEN_REFUSED, 'token refused');
      serveSocket(ws, engine, allowList, limits);
    });
  });

  const shown = bind.includes(':') ? `[${bind}]` : bind;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    token,
    engine,
    allowList,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
      await engine.stop();
    },
  };
}

function listenError(err: unknown, bind: string, port: number): Error {
  const code = (err as { code?: string }).code;
  const where = `${bind.includes(':') ? `[${bind}]` : bind}:${port}`;
  if (code === 'EADDRINUSE') return new BindError(`cannot listen on ${where}: the port is in use (pick another with --port, or leave it out for a free one)`);
  if (code === 'EACCES') return new BindError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL') return new BindError(`cannot listen on ${where}: no such address on this machine`);
  return new BindError(`cannot listen on ${where}: ${(err as Error).message}`);
}

/** One browser connection: checks each request, relays it to the engine, watches the replies. */
function serveSocket(ws: WebSocket, engine: EngineProcess, allowList: FolderAllowList, limits: SocketLimits): void {
  const inFlight = new Map<number, Method>();
  let paused = false;
  const send = (message: ServerMessage | Packet) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(encodeFrame('meta' in message && 'buffers' in message ? message : encodePacket(message)), afterWrite);
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      // It does not read what it asked for: drop it before its replies exhaust this process's memory.
      // Reading resumes so its answer to the close is seen (what else it sends is ignored).
      ws.close(CLOSE_TOO_SLOW, 'too many unread replies');
      ws.resume();
      connection.close();
    } else if (!paused && ws.bufferedAmount > limits.pauseBufferedBytes) {
      paused = true;
      ws.pause();
    }
  };
  function afterWrite(): void {
    if (paused && ws.readyState === ws.OPEN && ws.bufferedAmount <= limits.pauseBufferedBytes / 2) {
      paused = false;
      ws.resume();
    }
  }
  const fail = (id: number | null, error: ErrorInfo) => send(errorMessage(id, error));

  const connection = engine.connect({
    onPacket(packet) {
      observeReply(packet);
      send(packet);
    },
    onEngineLost(notice) {
      send({ kind: 'notice', notice });
      const code = notice.type === 'engine-restarted' ? 'engine-restarted' : 'engine-unavailable';
      for (const [id, method] of inFlight) {
        const error: ErrorInfo = { code, message: notice.reason };
        send(isSubscription(method) ? { kind: 'end', id, error } : errorMessage(id, error));
      }
      inFlight.clear();
    },
  });

  function observeReply(packet: Packet): void {
    let msg: ServerMessage;
    try {
      msg = decodePacket(packet) as ServerMessage;
    } catch {
      return;
    }
    if (msg.kind === 'reply' && msg.id !== null) {
      const method = inFlight.get(msg.id);
      if (method && msg.ok) for (const folder of resultFolders(method, msg.result)) allowList.add(folder);
      if (!method || !msg.ok || !isSubscription(method)) inFlight.delete(msg.id);
    } else if (msg.kind === 'end') {
      inFlight.delete(msg.id);
    }
  }

  /** The request's method when it may go to the engine, else why not. */
  function admit(id: number, methodName: string, rawParams: unknown): { ok: true; method: Method } | { ok: false; error: ErrorInfo } {
    const refuse = (error: ErrorInfo) => ({ ok: false as const, error });
    if (inFlight.has(id)) return refuse({ code: 'invalid-request', message: `request id ${id} is already in use` });
    if (inFlight.size >= MAX_IN_FLIGHT) return refuse({ code: 'invalid-request', message: `${MAX_IN_FLIGHT} requests are already in flight on this connection; wait for their replies` });
    const method = checkMethod(methodName);
    if (!method.ok) return refuse(method.error);
    const params = checkParams(method.value, rawParams);
    if (!params.ok) return refuse(params.error);
    let outside: string[];
    try {
      outside = requestPaths(method.value, params.value, folderOfId).filter((p) => !allowList.allows(p));
    } catch (err) {
      return refuse({ code: 'invalid-request', message: (err as Error).message });
    }
    if (outside.length) return refuse({ code: 'forbidden', message: `${outside[0]} is outside the folders opened in this session (${allowList.folders.join(', ')})` });
    const unavailable = engine.unavailableReason;
    if (unavailable) return refuse({ code: 'engine-unavailable', message: unavailable });
    return { ok: true, method: method.value };
  }

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (ws.readyState !== ws.OPEN) return;
    const incoming = decodeIncoming(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'), REQUEST_FRAME_LIMITS);
    const read = readClientMessage(incoming);
    if (!read.ok) return fail(read.id, read.error);
    const msg = read.message;
    if (msg.kind === 'request') {
      const admitted = admit(msg.id, msg.method, msg.params);
      if (!admitted.ok) return fail(msg.id, admitted.error);
      inFlight.set(msg.id, admitted.method);
    } else if (engine.unavailableReason) {
      return;
    }
    connection.send(incoming as Packet);
  });
  ws.on('close', () => connection.close());
}
