// Starts the web host on a free port in a child process and gives its page URL (with the token).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Server {
  url: string;
  runsDir: string;
  close(): Promise<void>;
}

/** `args`: further `convscope serve` options (e.g. --open DIR). */
export async function startServer(args: string[] = []): Promise<Server> {
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-e2e-runs-'));
  const child: ChildProcess = spawn(process.execPath, ['bin/convscope.mjs', 'serve', '--runs', runsDir, '--backend', 'wasm', ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the web host did not start in 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    child.on('exit', (code) => reject(new Error(`the web host exited with ${code}:\n${log}`)));
  });
  return {
    url,
    runsDir,
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(runsDir, { recursive: true, force: true });
    },
  };
}
