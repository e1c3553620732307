// Reads an image file's bytes once, from one open handle, so that what is checked is what is decoded: the
// handle must be a regular file (opened with O_NONBLOCK, so a FIFO does not wait for a writer) and the bytes the
// decoder sees are read from it, never from the path a second time.
// Inside a dataset folder (`realRoot` given) only a regular file inside the folder is read, even when a link is
// swapped in after the folder was listed (time of check to time of use): the path is resolved and checked inside
// the folder, opened without following a final symbolic link (O_NOFOLLOW), and must still resolve, inside the
// folder, to the very file that was opened (same device and inode), which catches a folder of the path swapped
// for a link. A path the user names explicitly (a dropped image, `--image`) may be a link: it is followed.
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** Files larger than this are not read into memory (no photo or drawing comes near it). */
export const MAX_IMAGE_FILE_BYTES = 256 * 2 ** 20;

// Windows has neither flag; the inode check below still holds there.
const FOLLOW = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const NO_FOLLOW = FOLLOW | (constants.O_NOFOLLOW ?? 0);

const inside = (realRoot: string, real: string) => {
  const rel = path.relative(realRoot, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

/**
 * The bytes of the image file `file`; with `realRoot` (a dataset folder's real path), only when it is a file
 * inside that folder. Throws an Error saying what is wrong.
 */
export async function readImageFile(file: string, realRoot?: string): Promise<Buffer> {
  const real = realRoot === undefined ? file : await realpath(file);
  if (realRoot !== undefined && !inside(realRoot, real)) throw new Error('it leads outside the dataset folder (a symbolic link); not read');
  const handle = await open(real, realRoot === undefined ? FOLLOW : NO_FOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP' && realRoot !== undefined) throw new Error('it became a symbolic link after the folder was listed; not read');
    throw err;
  });
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new Error('not a regular file');
    if (realRoot !== undefined) {
      const again = await realpath(file);
      const now = inside(realRoot, again) ? await stat(again) : null;
      if (now?.dev !== opened.dev || now.ino !== opened.ino) throw new Error('it changed while being opened (a symbolic link swapped in); not read');
    }
    if (opened.size > MAX_IMAGE_FILE_BYTES) throw new Error(`it is ${opened.size} bytes, over the ${MAX_IMAGE_FILE_BYTES / 2 ** 20} MiB read limit for an image file`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
