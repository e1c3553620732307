// The packaged renderer served as app://convscope/...: a real origin for sender checks, the CSP as a
// response header, and no file outside the renderer folder (no '..', no symlink out of it).
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Protocol } from 'electron';
import { APP_ORIGIN, APP_SCHEME, originOf, RENDERER_CSP } from './security';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export const NOT_BUILT_PAGE =
  '<!doctype html><meta charset="utf-8"><title>ConvScope</title><p>The renderer is not built. Run <code>npm run build</code>, then start ConvScope again.</p>';

/** Must run before the app is ready. */
export function registerAppScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** The file an app:// URL names inside `root`, or null for anything outside it (or another origin). */
export function resolveRendererFile(root: string, url: string): string | null {
  if (originOf(url) !== APP_ORIGIN) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const file = path.resolve(root, `.${pathname}`);
  if (!inside(root, file) || !existsSync(file)) return null;
  // A symlink inside the folder may point out of it.
  return inside(realpathSync(root), realpathSync(file)) ? file : null;
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

const headers = (type: string) => ({ 'content-type': type, 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff' });

export async function rendererResponse(root: string, url: string): Promise<Response> {
  const file = resolveRendererFile(root, url);
  if (!file) {
    const wantsIndex = ['/', '/index.html'].includes(safePath(url));
    if (wantsIndex && !existsSync(path.join(root, 'index.html'))) return new Response(NOT_BUILT_PAGE, { status: 503, headers: headers(TYPES['.html']) });
    return new Response('not found', { status: 404, headers: headers(TYPES['.txt']) });
  }
  const body = await readFile(file);
  return new Response(new Uint8Array(body), { status: 200, headers: headers(TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream') });
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/** After ready: app:// answers from `root`. */
export function serveRenderer(protocol: Protocol, root: string): void {
  protocol.handle(APP_SCHEME, (request) => rendererResponse(root, request.url));
}
