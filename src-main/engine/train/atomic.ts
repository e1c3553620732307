// Crash-safe file replacement: write a temporary file, fsync it, rename it over the target, fsync the folder.
// A reader sees either the old file or the complete new one; a torn temporary file is never read.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Temporary files carry this infix, so a resume can recognise and remove leftovers of a killed writer. */
export const TEMP_INFIX = '.partial-';

/** `beforeRename` runs once the temporary file is whole and synced, just before it is renamed over `file`. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, beforeRename?: () => Promise<void>): Promise<void> {
  const tmp = `${file}${TEMP_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/** Makes a rename durable (the directory entry itself). Some filesystems refuse fsync on folders: ignored there. */
async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on platforms without directory fsync
  } finally {
    await handle?.close();
  }
}
