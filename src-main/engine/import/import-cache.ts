// Model files opened directly (an .onnx or .caffemodel given where a model folder is expected): imported
// once into a cache folder named by the file's content hash, then opened like any imported folder. The
// folder records the external data files the import read (size and mtime): a changed data file re-imports.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appVersion } from '../paths';
import { MODEL_JSON } from '../models';
import { importModel, saveImportedModel } from './import-model';
import { MODEL_INFO_JSON } from './model-info';

/** Bump when the importer's output for the same file would change. */
const IMPORT_CACHE_FORMAT = 1;
const SOURCE_JSON = 'import-source.json';

export function defaultImportCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'convscope', 'imports');
}

interface SourceRecord {
  file: string;
  sha256: string;
  externalData: { location: string; size: number; mtimeMs: number }[];
}

/**
 * The cache folder holding `file` imported with its guessed preprocessing (model.json, weights.bin,
 * model-info.json): reused while the file's bytes and its external data are unchanged, else (re)written.
 * Concurrent callers each write a private folder and rename it into place; the first one wins.
 */
export async function importedFolder(file: string, cacheDir = defaultImportCacheDir()): Promise<string> {
  const sha256 = await hashFile(file);
  const dir = path.join(cacheDir, `${sha256.slice(0, 40)}-v${IMPORT_CACHE_FORMAT}-${appVersion()}`);
  if (await isCurrent(dir, file)) return dir;

  const imported = await importModel(file);
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await saveImportedModel(imported, temp);
    const externalData = await Promise.all((imported.info.source.externalData ?? []).map(async (location) => ({ location, ...(await stamp(path.join(path.dirname(file), location))) })));
    const record: SourceRecord = { file: path.resolve(file), sha256, externalData };
    await writeFile(path.join(temp, SOURCE_JSON), JSON.stringify(record, null, 1) + '\n');
    await rm(dir, { recursive: true, force: true }); // a stale entry (its external data changed)
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(temp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!(err.code === 'ENOTEMPTY' || err.code === 'EEXIST') || !(await isCurrent(dir, file))) throw err;
    });
  } finally {
    imported.model.dispose();
    await rm(temp, { recursive: true, force: true });
  }
  return dir;
}

async function isCurrent(dir: string, file: string): Promise<boolean> {
  const text = await readFile(path.join(dir, SOURCE_JSON), 'utf8').catch(() => null);
  if (text === null) return false;
  for (const name of [MODEL_JSON, MODEL_INFO_JSON]) if (!(await stat(path.join(dir, name)).catch(() => null))) return false;
  try {
    const record = JSON.parse(text) as SourceRecord;
    for (const e of record.externalData) {
      const now = await stamp(path.join(path.dirname(file), e.location)).catch(() => null);
      if (!now || now.size !== e.size || now.mtimeMs !== e.mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function stamp(file: string): Promise<{ size: number; mtimeMs: number }> {
  const s = await stat(file);
  return { size: s.size, mtimeMs: s.mtimeMs };
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
