import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../../bin/convscope.mjs', import.meta.url).pathname;

async function convscope(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('convscope CLI entry', () => {
  it('lists its commands with --help', async () => {
    const r = await convscope(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: convscope <command>/);
    expect(r.stdout).toMatch(/summary/);
  });

  it('rejects an unknown command in one line with a non-zero exit', async () => {
    const r = await convscope(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
