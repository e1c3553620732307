// Runs the CLI as a child process (bin/convscope.mjs) or in this process (main(), no start-up cost) and
// gives its exit code and output (never throws on a non-zero exit).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../src-main/cli/main';

const exec = promisify(execFile);
export const CLI_BIN = new URL('../../bin/convscope.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  try {
    const env = options.env ? { ...process.env, ...options.env } : undefined;
    const { stdout, stderr } = await exec(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd, env, maxBuffer: 64 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** main() in this process, with what it writes to stdout and stderr captured. */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
