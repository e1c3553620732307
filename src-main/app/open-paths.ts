// What a path given to the app (command line, a second instance, macOS open-file) should open: an image,
// a model, or a training run.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { OpenKind } from '../contract/shell';
import { READ_EXTENSIONS, REFUSED_EXTENSIONS } from '../engine/data/image-formats';

/** Opened as images: the formats the engine reads, and the ones it refuses (so the user is told why). */
export const IMAGE_EXTENSIONS: readonly string[] = [...READ_EXTENSIONS, ...REFUSED_EXTENSIONS];
export const MODEL_EXTENSIONS = ['.json', '.onnx', '.caffemodel', '.prototxt'];

export function classifyPath(file: string): OpenKind | null {
  if (!existsSync(file)) return null;
  if (statSync(file).isDirectory()) {
    if (existsSync(path.join(file, 'config.json'))) return 'run';
    if (existsSync(path.join(file, 'model.json'))) return 'model';
    return null;
  }
  const ext = path.extname(file).toLowerCase();
  if (IMAGE_EXTENSIONS.includes(ext)) return 'image';
  if (MODEL_EXTENSIONS.includes(ext)) return 'model';
  return null;
}

/** File arguments of a command line (after the app's own), with what to open them as. */
export function openablePaths(argv: readonly string[], cwd: string): { kind: OpenKind; path: string }[] {
  const out: { kind: OpenKind; path: string }[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) continue;
    const full = path.resolve(cwd, arg);
    const kind = classifyPath(full);
    if (kind) out.push({ kind, path: full });
  }
  return out;
}
