// Where ConvScope's own files are, from source (tsx), from electron-vite's bundles (out/main/*.js) and
// from a packaged app alike: the package root is the nearest folder above this module whose
// package.json is ConvScope's, and resources/ lies in it unless CONVSCOPE_RESOURCES names another
// folder (a packaged app's main points it at process.resourcesPath/resources, where electron-builder
// puts resources/ outside the asar archive).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'convscope';

/** The nearest folder at or above `start` with ConvScope's package.json. */
export function findPackageRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && readPackage(file).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ${PACKAGE_NAME} package.json above ${start}`);
  }
}

function readPackage(file: string): { name?: string; version?: string } {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  } catch {
    return {};
  }
}

let root: string | null = null;

export function packageRoot(): string {
  root ??= findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
  return root;
}

export function resourcesDir(env: Record<string, string | undefined> = process.env): string {
  return env.CONVSCOPE_RESOURCES ? path.resolve(env.CONVSCOPE_RESOURCES) : path.join(packageRoot(), 'resources');
}

export function appVersion(): string {
  return readPackage(path.join(packageRoot(), 'package.json')).version ?? 'unknown';
}
