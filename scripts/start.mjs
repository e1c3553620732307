#!/usr/bin/env node
// `npm start`: build and launch the Electron app. Where the Electron binary cannot be had (it downloads
// on first use and that can fail), say so in one line and serve the same UI in the browser instead:
// the renderer is built, then `convscope serve` runs and prints its URL. Arguments after `--` go to
// Electron, or to `convscope serve` (e.g. npm start -- --port 8080). --no-build skips the build.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = (name) => path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const passThrough = args.filter((a) => a !== '--no-build' && a !== '--');

/** The Electron binary's path, or the reason there is none. Run in a child: electron's installer prints a stack trace when it fails. */
function findElectron() {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout };
  const text = `${probe.stderr ?? ''}\n${probe.error?.message ?? ''}`;
  const line = text.split('\n').find((l) => /Electron failed to install correctly|Cannot find module 'electron'/.test(l));
  const reason = (line ?? text.trim().split('\n').at(-1) ?? 'unknown error').replace(/^.*?Error:\s*/, '').replace(/\. Please delete.*$/, '');
  return { reason: reason || 'unknown error' };
}

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  return result.status === 0;
}

/** Runs a long-lived child with our stdio, passing Ctrl-C on, and exits with its code. */
function hand(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const electron = findElectron();
if (electron.path) {
  if (build && !run(bin('electron-vite'), ['build'])) process.exit(1);
  hand(electron.path, ['.', ...passThrough]);
} else {
  console.log(`Electron is not available (${electron.reason}); serving the UI in the browser instead.`);
  if (build && !run(bin('vite'), ['build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'])) {
    console.log('The renderer build failed (see above); the page will say it is not built.');
  }
  hand(process.execPath, [path.join(root, 'bin', 'convscope.mjs'), 'serve', ...passThrough]);
}
