import { describe, it, expect } from 'vitest';
import { runCli as convscope, runCliInProcess } from './run-cli';

describe('convscope CLI entry', () => {
  it('lists its commands with --help', async () => {
    const r = await convscope(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: convscope <command>/);
    expect(r.stdout).toMatch(/summary/);
  });

  it.each(['summary', 'train', 'inspect', 'kernels', 'eval', 'experiment', 'serve', 'import', 'bench'])('%s --help prints its own usage, served by main', async (name) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCliInProcess([name, flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: convscope ${name} `));
      expect(r.stderr).toBe('');
    }
  });

  it('rejects an unknown command in one line with a non-zero exit', async () => {
    const r = await convscope(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
