// `convscope serve` start-up: an address it cannot have is one line and an exit, and --host is checked
// as the address it resolves to. No real name is resolved here: names go through a fake lookup, or are
// names the resolver refuses without asking anyone.
import { describe, it, expect } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startWebHost } from '../../src-main/web/server';
import { isLoopbackAddress, resolveBindAddress, type Lookup } from '../../src-main/web/security';
import { runCli } from '../cli/run-cli';

const fakeDns =
  (table: Record<string, string[]>): Lookup =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address }));
  };

describe('convscope serve: --host is checked as the address it resolves to', () => {
  it('takes loopback addresses and localhost resolving to loopback; a name needs --allow-remote, then is checked as resolved', async () => {
    const lookup = fakeDns({ localhost: ['127.0.0.1', '::1'], '127.0.0.1.nip.io': ['127.0.0.1'], far: ['203.0.113.7'] });
    expect(await resolveBindAddress('127.0.0.1', { lookup })).toBe('127.0.0.1');
    expect(await resolveBindAddress('127.1.2.3', { lookup })).toBe('127.1.2.3');
    expect(await resolveBindAddress('::1', { lookup })).toBe('::1');
    expect(await resolveBindAddress('[::1]', { lookup })).toBe('::1');
    expect(await resolveBindAddress('localhost', { lookup })).toBe('127.0.0.1');
    // A name that merely starts like a loopback address is a name: its address is up to DNS.
    await expect(resolveBindAddress('127.0.0.1.nip.io', { lookup })).rejects.toThrow(/^refusing to listen on 127\.0\.0\.1\.nip\.io: .*--allow-remote/);
    expect(await resolveBindAddress('127.0.0.1.nip.io', { lookup, allowRemote: true })).toBe('127.0.0.1');
    expect(await resolveBindAddress('far', { lookup, allowRemote: true })).toBe('203.0.113.7');
    // localhost is checked as what it resolves to.
    await expect(resolveBindAddress('localhost', { lookup: fakeDns({ localhost: ['127.0.0.1', '10.0.0.1'] }) })).rejects.toThrow(/localhost \(10\.0\.0\.1\).*--allow-remote/);
    await expect(resolveBindAddress('0.0.0.0', { lookup })).rejects.toThrow(/--allow-remote/);
    await expect(resolveBindAddress('127.example.invalid', { lookup })).rejects.toThrow(/--allow-remote/);
    await expect(resolveBindAddress('127.example.invalid', { lookup, allowRemote: true })).rejects.toThrow(/^cannot listen on --host 127\.example\.invalid: the name does not resolve \(ENOTFOUND\)$/);
    for (const address of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['127.0.0.1.nip.io', 'localhost', '128.0.0.1', '::2', '::ffff:10.0.0.1', '']) expect(isLoopbackAddress(address), address).toBe(false);
  });

  it('refuses to start a host on localhost resolving beyond loopback, before anything is started', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'convscope-serve-'));
    const lookup = fakeDns({ localhost: ['203.0.113.7'] });
    await expect(startWebHost({ host: 'localhost', lookup, rendererDir: dir, runsDir: dir })).rejects.toThrow(/--allow-remote/);
  });
});

describe('convscope serve: an address it cannot have', () => {
  it('--port in use: one line, exit 2, no process left behind', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'convscope-serve-'));
    try {
      const result = await runCli(['serve', '--port', String(port), '--runs', path.join(dir, 'runs')]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`convscope serve: cannot listen on 127.0.0.1:${port}: the port is in use (pick another with --port, or leave it out for a free one)\n`);
    } finally {
      taken.close();
    }
  }, 60_000);

  it('--host that is a name: one line, exit 2, without asking DNS; with --allow-remote, one that does not resolve: one line', async () => {
    const nip = await runCli(['serve', '--host', '127.0.0.1.nip.io']);
    expect(nip.code).toBe(2);
    expect(nip.stderr).toMatch(/^convscope serve: refusing to listen on 127\.0\.0\.1\.nip\.io: .*--allow-remote to do it anyway\n$/);
    // A label over 63 characters: the resolver refuses it without sending a query.
    const name = `${'x'.repeat(70)}.invalid`;
    const unresolved = await runCli(['serve', '--host', name, '--allow-remote']);
    expect(unresolved.code).toBe(2);
    expect(unresolved.stderr).toMatch(new RegExp(`^convscope serve: cannot listen on --host ${name}: the name does not resolve \\(\\w+\\)\\n$`));
  }, 60_000);
});
