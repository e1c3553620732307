// The outside world the backend probes look at, injectable so that tests can fake a machine with
// (or without) a GPU, CUDA libraries and native packages.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ExecResult = {
  /** Exit code; null when the process was killed or never started. */
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why the process could not be started (e.g. ENOENT). */
  startError?: string;
};

export type ExecOptions = { env?: Record<string, string | undefined>; timeoutMs?: number };

export type ProbeDeps = {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** The version of an installed package, or null when it is not in node_modules. */
  packageVersion(name: string): string | null;
  exists(path: string): boolean;
  /** File names in a folder; [] when it cannot be read. */
  listDir(dir: string): string[];
  exec(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>;
  /** The Node executable that runs probe children (Electron's binary runs as Node with ELECTRON_RUN_AS_NODE). */
  nodeExecutable: string;
  /** The folder package names are resolved from (where node_modules is found). */
  resolveFrom: string;
};

const requireHere = createRequire(import.meta.url);

/** The package.json of an installed package, also when its "exports" hide package.json. */
function packageJsonPath(name: string): string | null {
  try {
    return requireHere.resolve(`${name}/package.json`);
  } catch {
    try {
      let dir = path.dirname(requireHere.resolve(name));
      while (path.basename(dir) !== path.basename(name) && path.dirname(dir) !== dir) dir = path.dirname(dir);
      return existsSync(path.join(dir, 'package.json')) ? path.join(dir, 'package.json') : null;
    } catch {
      return null;
    }
  }
}

function packageVersion(name: string): string | null {
  const file = packageJsonPath(name);
  if (file === null) return null;
  try {
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function exec(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, { env: options.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : null;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ status: null, stdout, stderr, timedOut, startError: err.message });
    });
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

export function realProbeDeps(): ProbeDeps {
  return {
    env: process.env,
    platform: process.platform,
    packageVersion,
    exists: existsSync,
    listDir,
    exec,
    nodeExecutable: process.execPath,
    resolveFrom: fileURLToPath(new URL('.', import.meta.url)),
  };
}
