// A stand-in for `convscope serve` while the web host is being written: serves out/renderer and the
// real engine (createEngine + serveEngine) over a WebSocket at /ws?token=preview, in this process.
// Run: npx tsx tests/e2e/support/preview-host.ts [runsDir]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { webSocketTransport } from '../../../src-main/contract/port';
import { createEngineHost } from '../../../src-main/engine/host';
import { createEngine } from '../../../src-main/engine/handlers';

const root = path.resolve('out/renderer');
const token = 'preview';
const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const engine = createEngine({ runsDir: process.argv[2] ?? '/tmp/convscope-preview-runs', backend: 'wasm' });
const host = createEngineHost(engine.handlers, { onInternalError: (m, e) => console.error(m, e) });

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const file = path.join(root, url.pathname === '/' ? 'index.html' : url.pathname);
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (ws, req) => {
  if (new URL(req.url ?? '', 'http://x').searchParams.get('token') !== token) return ws.close(1008);
  host.connect(webSocketTransport(ws as unknown as Parameters<typeof webSocketTransport>[0]));
});

const port = Number(process.env.PORT ?? 5181);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`http://127.0.0.1:${actual}/?token=${token}`);
});
const stop = () => {
  void engine.shutdown().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
