// `convscope serve`: the built renderer over HTTP and the contract over a token-guarded WebSocket, with
// the engine in a child process. Loopback only unless asked otherwise; the Host and Origin headers must
// name this server (DNS rebinding); requests may name only files under the folders the user opened.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  checkMethod,
  checkParams,
  decodeIncoming,
  decodePacket,
  encodeFrame,
  encodePacket,
  errorMessage,
  isSubscription,
  requestPaths,
  resultFolders,
  salvageId,
  type ErrorInfo,
  type Method,
  type Packet,
  type ServerMessage,
} from '../contract';
import { EngineProcess } from './engine-process';
import { allowedHosts, FolderAllowList, hostAllowed, isLoopback, originAllowed, tokensEqual } from './security';
import { serveStatic } from './static-files';

export const SOCKET_PATH = '/ws';

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
  /** A fixed token (tests); random otherwise. */
  token?: string;
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

export class RemoteBindError extends Error {
  readonly userFacing = true;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const bind = options.host ?? '127.0.0.1';
  if (!isLoopback(bind) && !options.allowRemote) {
    throw new RemoteBindError(`refusing to listen on ${bind}: anyone who can reach it and learns the token can use this machine's files and CPU; pass --allow-remote to do it anyway`);
  }
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (!isLoopback(bind)) log(`warning: listening on ${bind}, not just this machine; keep the URL's token secret`);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const allowList = new FolderAllowList();
  for (const folder of [options.runsDir, ...(options.openFolders ?? [])]) allowList.add(folder);
  const engine = new EngineProcess({ runsDir: options.runsDir, openFolders: options.openFolders, backend: options.backend, log });

  let hosts = new Set<string>();
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, hosts)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request: unknown Host header');
      return;
    }
    serveStatic(options.rendererDir, req, res).catch(() => res.writeHead(500).end());
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 512 * 2 ** 20 });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== SOCKET_PATH) return refuse('404 Not Found');
    if (!hostAllowed(req.headers.host, hosts)) return refuse('421 Misdirected Request');
    if (!originAllowed(req.headers.origin, hosts)) return refuse('403 Forbidden');
    if (!tokensEqual(url.searchParams.get('token'), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, engine, allowList));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bind, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(bind, port);
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

/** One browser connection: checks each request's paths, relays it to the engine, watches the replies. */
function serveSocket(ws: WebSocket, engine: EngineProcess, allowList: FolderAllowList): void {
  const inFlight = new Map<number, Method>();
  const send = (message: ServerMessage | Packet) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(encodeFrame('meta' in message && 'buffers' in message ? message : encodePacket(message)));
  };
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

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const incoming = decodeIncoming(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'));
    if ('undecodable' in incoming) return fail(null, { code: 'invalid-request', message: `undecodable frame: ${incoming.undecodable}` });
    let msg: { kind?: unknown; id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = decodePacket(incoming) as typeof msg;
    } catch (err) {
      return fail(null, { code: 'invalid-request', message: (err as Error).message });
    }
    if (msg.kind === 'request') {
      const id = salvageId(msg);
      const method = checkMethod(msg.method);
      if (id !== null && method.ok) {
        const params = checkParams(method.value, msg.params);
        // Invalid params go on to the engine, which replies with the issues.
        if (params.ok) {
          const outside = requestPaths(method.value, params.value).filter((p) => !allowList.allows(p));
          if (outside.length) {
            return fail(id, { code: 'forbidden', message: `${outside[0]} is outside the folders opened in this session (${allowList.folders.join(', ')})` });
          }
        }
        inFlight.set(id, method.value);
      }
    }
    connection.send(incoming);
  });
  ws.on('close', () => connection.close());
}
