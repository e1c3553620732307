// ONNX external data (onnx.save_model(..., save_as_external_data=True), the normal form of models over
// 2 GB): tensors whose bytes live in files beside the model. A location is hostile until checked: a plain
// relative path inside the model's folder, no '..', no absolute path, no symlink that leads out.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ImportFileError } from './errors';

/** One tensor's bytes, as its external_data entries say: `location`, `offset` and `length` (both optional). */
export type ExternalDataReader = (entry: { location: string; offset: number; length: number | null }, where: string) => Uint8Array;

export interface ExternalDataFiles {
  read: ExternalDataReader;
  /** The files read so far, relative to the model's folder. */
  locations(): string[];
  close(): void;
}

/** Reads external data for the model at `modelFile`, only from files inside its folder; close() releases them. */
export function externalDataFiles(modelFile: string): ExternalDataFiles {
  const dir = path.dirname(path.resolve(modelFile));
  const fds = new Map<string, { fd: number; size: number }>();
  const read = new Set<string>();
  const open = (location: string, where: string) => {
    const parts = location.split(/[\\/]/);
    if (!location || path.isAbsolute(location) || /^[A-Za-z]:/.test(location) || parts.includes('..') || location.includes('\0')) {
      throw new ImportFileError(`${where}: its external data location '${location}' is not a file inside the model's folder (no absolute paths or '..')`);
    }
    const file = path.join(dir, location);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new ImportFileError(`${where}: its external data file '${location}' does not exist beside the model (${dir})`);
    }
    const realDir = realpathSync(dir);
    if (real === realDir) throw new ImportFileError(`${where}: its external data location '${location}' is the model's folder, not a file`);
    if (!real.startsWith(realDir + path.sep)) throw new ImportFileError(`${where}: its external data file '${location}' leads outside the model's folder (a symbolic link)`);
    let known = fds.get(real);
    if (!known) {
      const fd = openSync(real, 'r');
      const s = fstatSync(fd);
      if (!s.isFile()) {
        closeSync(fd);
        throw new ImportFileError(`${where}: its external data '${location}' is not a file`);
      }
      known = { fd, size: s.size };
      fds.set(real, known);
    }
    return known;
  };
  return {
    read({ location, offset, length }, where) {
      const { fd, size } = open(location, where);
      read.add(path.normalize(location));
      const n = length ?? size - offset;
      if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(n) && n >= 0 && offset + n <= size)) {
        throw new ImportFileError(`${where}: its external data (offset ${offset}, length ${length ?? 'to the end'}) lies outside '${location}' (${size} bytes; truncated?)`);
      }
      const out = new Uint8Array(n);
      for (let done = 0; done < n; ) {
        const got = readSync(fd, out, done, n - done, offset + done);
        if (got === 0) throw new ImportFileError(`${where}: '${location}' ended early (truncated?)`);
        done += got;
      }
      return out;
    },
    locations: () => [...read],
    close() {
      for (const { fd } of fds.values()) closeSync(fd);
      fds.clear();
    },
  };
}
