// Child process for the disk-full test: trains the synthetic resume run; with --full-after K the disk "fills
// up" right after step K: from then on creating a file or folder, or appending, under RUN_DIR fails with
// ENOSPC, while rewriting an existing file in place still works (as on a full tmpfs, where the old file's
// pages are reused). The fault is injected into node:fs itself (syncBuiltinESMExports), so the engine's own
// write path meets it. Prints one JSON line: the result's state, or the error's name, code and message.
// With --full-at-start the disk is full before the run folder's first file is written.
// usage: node --import tsx train-enospc-child.ts RUN_DIR [--full-after K | --full-at-start] [--resume]
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { resumeRun, startRun } from '../../src-main/engine/train';
import { bandData } from './train-synthetic';
import { resumeTestConfig } from './train-resume-config';

const [runDir, ...rest] = process.argv.slice(2);
const fullAfter = rest.includes('--full-after') ? Number(rest[rest.indexOf('--full-after') + 1]) : null;

function enospc(file: fs.PathLike | fsp.FileHandle): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}
const inRun = (file: unknown) => typeof file === 'string' && path.resolve(file).startsWith(path.resolve(runDir) + path.sep);
const grows = (file: unknown) => inRun(file) && !fs.existsSync(file as string);

function fillDisk(): void {
  const { open, writeFile, appendFile, mkdir } = fsp;
  const appendFileSync = fs.appendFileSync;
  fsp.open = ((file: string, ...args: unknown[]) => (grows(file) ? Promise.reject(enospc(file)) : (open as (...a: unknown[]) => unknown)(file, ...args))) as typeof fsp.open;
  fsp.writeFile = ((file: string, ...args: unknown[]) => (grows(file) ? Promise.reject(enospc(file)) : (writeFile as (...a: unknown[]) => unknown)(file, ...args))) as typeof fsp.writeFile;
  fsp.appendFile = ((file: string, ...args: unknown[]) => (inRun(file) ? Promise.reject(enospc(file)) : (appendFile as (...a: unknown[]) => unknown)(file, ...args))) as typeof fsp.appendFile;
  fsp.mkdir = ((dir: string, ...args: unknown[]) => (grows(dir) ? Promise.reject(enospc(dir)) : (mkdir as (...a: unknown[]) => unknown)(dir, ...args))) as typeof fsp.mkdir;
  fs.appendFileSync = ((file: string, ...args: unknown[]) => {
    if (inRun(file)) throw enospc(file);
    return (appendFileSync as (...a: unknown[]) => unknown)(file, ...args);
  }) as typeof fs.appendFileSync;
  syncBuiltinESMExports();
}

const data = { data: bandData(256, 64), preprocess: { kind: 'synthetic' }, warnings: [] };
try {
  if (rest.includes('--full-at-start')) fillDisk();
  const trainer = rest.includes('--resume') ? await resumeRun(runDir, { data }) : await startRun(resumeTestConfig('cpu'), { runDir, data });
  trainer.on((event) => {
    if (event.type === 'batch' && event.record.step === fullAfter) fillDisk();
  });
  const result = await trainer.run();
  console.log(JSON.stringify({ state: result.state, epochs: result.epochs.length }));
} catch (err) {
  const e = err as Error & { code?: string };
  console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));
}
