// Serves the built renderer's files, never anything outside its folder.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** The page's CSP: our own scripts only (the renderer runs no WebAssembly); the socket to us. */
export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://${host} wss://${host}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>ConvScope</title>
<p>The ConvScope UI has not been built. Run <code>npm run build:renderer</code>, then reload this page.</p>`;

/** The headers every answer carries, errors included. */
export function securityHeaders(host: string): Record<string, string> {
  return { 'content-security-policy': contentSecurityPolicy(host), 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

export async function serveStatic(rendererDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = securityHeaders(req.headers.host ?? '');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
    return;
  }
  const pathname = requestPathname(req.url);
  if (pathname === null) {
    res.writeHead(400, headers).end('bad request: malformed URL');
    return;
  }
  const rel = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const file = path.resolve(rendererDir, rel);
  const inside = path.relative(path.resolve(rendererDir), file);
  if (inside.startsWith('..') || path.isAbsolute(inside) || rel.includes('\0')) {
    res.writeHead(403, headers).end('forbidden');
    return;
  }
  if (rel === 'index.html' && !existsSync(file)) {
    res.writeHead(200, { ...headers, 'content-type': TYPES['.html'] }).end(NOT_BUILT);
    return;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, headers).end('not found');
  }
}

/** The request's decoded path, or null for a malformed one (bad percent-encoding, not UTF-8). */
function requestPathname(url: string | undefined): string | null {
  try {
    return decodeURIComponent(new URL(url ?? '/', 'http://host').pathname);
  } catch {
    return null;
  }
}
