#!/usr/bin/env node
// npm start: build and launch the Electron app. Where Electron's binary cannot be had (no network to
// fetch it, or an old Node), say so in one line and open the same UI through the web host instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quiet = { cwd: root, encoding: 'utf8', timeout: 10 * 60_000 };

/** Electron's executable, or why there is none (its first use downloads it: run that in a child, quietly). */
function findElectron() {
  const r = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], quiet);
  if (r.status === 0 && r.stdout && existsSync(r.stdout)) return { path: r.stdout };
  const line = `${r.stderr ?? ''}`.split('\n').find((l) => /Error:/.test(l)) ?? 'electron is not installed';
  return { reason: line.replace(/^.*?Error:\s*/, '').trim() };
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

const electron = findElectron();
let why = electron.reason;
if (electron.path) {
  if (existsSync(path.join(root, 'electron.vite.config.ts')) && run(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'])) {
    const app = spawn(electron.path, [root], { cwd: root, stdio: 'inherit' });
    app.on('exit', (code) => process.exit(code ?? 0));
  } else {
    why = 'the Electron shell could not be built';
  }
}
if (why) {
  console.log(`Electron cannot start here (${why}); opening the same UI through the web host instead.`);
  if (!run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'])) process.exit(1);
  const serve = spawn(process.execPath, [path.join(root, 'bin/convscope.mjs'), 'serve', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => serve.kill(sig));
  serve.on('exit', (code) => process.exit(code ?? 0));
}
