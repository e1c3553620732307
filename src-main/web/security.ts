// The web host's guards: the access token, the Host and Origin headers (DNS rebinding), and the folders
// a client may name in requests.
import { timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export function tokensEqual(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Whether an IP address (not a name: names are resolved first) is this machine's loopback. */
export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  if (isIP(address) === 6) {
    const lower = address.toLowerCase();
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 && lower.slice(7).startsWith('127.'));
  }
  return false;
}

export class BindError extends Error {
  readonly userFacing = true;
}

export type Lookup = (host: string) => Promise<{ address: string }[]>;
const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * The address to listen on for --host, resolved once (what is checked is what is bound). Without
 * allowRemote only loopback will do: a loopback address, or `localhost` resolving to loopback only; any
 * other name needs allowRemote, since what it resolves to is up to DNS (`127.0.0.1.nip.io` is a name like
 * any other). A name that does not resolve is one line.
 */
export async function resolveBindAddress(host: string, options: { allowRemote?: boolean; lookup?: Lookup } = {}): Promise<string> {
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const remoteAdvice = 'anyone who can reach it and learns the token can use this machine\'s files and CPU; pass --allow-remote to do it anyway';
  if (!isIP(name) && name.toLowerCase() !== 'localhost' && !options.allowRemote) {
    throw new BindError(`refusing to listen on ${host}: only a loopback address (127.0.0.1, ::1) or localhost is this machine alone, and a name resolves to whatever DNS says; ${remoteAdvice}`);
  }
  let addresses: { address: string }[];
  try {
    addresses = isIP(name) ? [{ address: name }] : await (options.lookup ?? systemLookup)(name);
  } catch (err) {
    throw new BindError(`cannot listen on --host ${host}: the name does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
  if (addresses.length === 0) throw new BindError(`cannot listen on --host ${host}: the name resolves to no address`);
  const remote = addresses.find((a) => !isLoopbackAddress(a.address));
  if (remote && !options.allowRemote) {
    const what = remote.address === name ? host : `${host} (${remote.address})`;
    throw new BindError(`refusing to listen on ${what}: not this machine's loopback, so ${remoteAdvice}`);
  }
  return addresses[0].address;
}

/** The Host header values this server answers to: the names it was started with (and loopback aliases) with its port. */
export function allowedHosts(names: readonly string[], bound: string, port: number): Set<string> {
  const all = [...names, bound].map((n) => (n.includes(':') ? `[${n}]` : n.toLowerCase()));
  if (isLoopbackAddress(bound)) all.push(...LOOPBACK_NAMES);
  return new Set(all.map((n) => `${n}:${port}`));
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
