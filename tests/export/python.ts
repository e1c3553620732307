// Debian's PyTorch for the export tests: whether /usr/bin/python3 has torch, and running it (one process,
// or torch.distributed.run with N processes). Tests that need it skip with the reason printed.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

export const PYTHON = '/usr/bin/python3';
const exec = promisify(execFile);

function probeTorch(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} has no torch (install python3-torch): ${r.stderr.trim().split('\n').at(-1)}`;
  return null;
}

/** Why the torch tests cannot run here, or null when they can. */
export const NO_TORCH = probeTorch();
if (NO_TORCH) console.log(`skipping the PyTorch export tests: ${NO_TORCH}`);

/** One thread per process: the tests' processes share two cores. */
const ENV = { ...process.env, OMP_NUM_THREADS: '1' };

export async function python(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(PYTHON, args, { env: ENV, maxBuffer: 64 * 2 ** 20 });
}

/**
 * torch.distributed.run (torchrun) with `processes` workers on this machine. `--redirects 2 --tee 2`: with
 * the default 0, torch 1.13's launcher fails on Python 3.11 (its Std enum lookup misses NONE).
 */
export function torchrunArgs(processes: number, script: string, args: string[]): string[] {
  return ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(processes), '--redirects', '2', '--tee', '2', script, ...args];
}

export async function torchrun(processes: number, script: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(PYTHON, torchrunArgs(processes, script, args), { env: ENV, maxBuffer: 64 * 2 ** 20 });
}

/** A TCP port the OS reports free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One node's launcher of a multi-node run: `nodes` launchers meet at `endpoint` (c10d rendezvous). The
 * host node is named (`is_host`), so the two launchers on one machine do not race to host the store; a
 * launcher still running after `timeoutMs` is killed and the call fails with its output.
 */
export async function torchrunNode(nodes: number, endpoint: string, isHost: boolean, script: string, args: string[], timeoutMs = 150_000): Promise<{ stdout: string; stderr: string }> {
  const launcher = ['-m', 'torch.distributed.run', '--nnodes', String(nodes), '--nproc_per_node', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', endpoint, '--rdzv_id', 'convscope-test', '--rdzv_conf', `is_host=${isHost ? 1 : 0}`, '--redirects', '2', '--tee', '2'];
  return exec(PYTHON, [...launcher, script, ...args], { env: ENV, maxBuffer: 64 * 2 ** 20, timeout: timeoutMs, killSignal: 'SIGKILL' });
}

/** Started in its own process group, so the launcher and its workers can be killed together. */
export function spawnTorchrun(processes: number, script: string, args: string[]): ChildProcess {
  return spawn(PYTHON, torchrunArgs(processes, script, args), { env: ENV, detached: true, stdio: 'ignore' });
}
