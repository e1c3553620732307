// The folder a `folder:PATH` dataset id names: the one resolver shared by the engine, which reads the
// folder, and the web host, which checks it against its allow-list (both must mean the same folder).
import os from 'node:os';
import path from 'node:path';
import { datasetFolder } from '../../contract/inspect';
import { DatasetError } from './dataset';

/** The absolute folder a 'folder:PATH' id names (a leading ~ is the home folder, relative is from the cwd), or null for other ids. */
export function folderOfId(id: string): string | null {
  const raw = datasetFolder(id);
  if (raw === null) return null;
  if (raw.trim() === '') throw new DatasetError(`dataset id '${id}' names no folder (write folder:PATH)`, 'unknown-dataset');
  const expanded = raw === '~' || raw.startsWith('~/') ? path.join(os.homedir(), raw.slice(1)) : raw;
  return path.resolve(expanded);
}
