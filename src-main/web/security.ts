// The web host's guards: the access token, the Host and Origin headers (DNS rebinding), and the folders
// a client may name in requests.
import { timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';

export function tokensEqual(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The Host header values this server answers to: its bound address (and loopback aliases) with its port. */
export function allowedHosts(bound: string, port: number): Set<string> {
  const names = isLoopback(bound) ? [...LOOPBACK_NAMES, bound] : [bound.includes(':') ? `[${bound}]` : bound];
  return new Set(names.map((n) => `${n}:${port}`));
}

export function hostAllowed(header: string | undefined, hosts: ReadonlySet<string>): boolean {
  return header !== undefined && hosts.has(header.toLowerCase());
}

/** A WebSocket must come from a page this server served (browsers always send Origin on WebSockets). */
export function originAllowed(origin: string | undefined, hosts: ReadonlySet<string>): boolean {
  if (origin === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && hosts.has(url.host.toLowerCase());
  } catch {
    return false;
  }
}

/** Folders whose files clients may name; symlinks are resolved so none leads out of them. */
export class FolderAllowList {
  private readonly roots = new Set<string>();

  add(folder: string): void {
    this.roots.add(resolveReal(folder));
  }

  get folders(): string[] {
    return [...this.roots];
  }

  allows(file: string): boolean {
    const real = resolveReal(file);
    return [...this.roots].some((root) => {
      const rel = path.relative(root, real);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    });
  }
}

/** The real path of a file or, for one that does not exist yet, of its nearest existing parent plus the rest. */
function resolveReal(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      tail.push(path.basename(head));
      head = parent;
    }
  }
}
