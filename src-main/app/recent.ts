// Recently opened images, models and runs (newest first), in userData/recent.json, for the Recent menu.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RecentListSchema, type RecentItem } from '../contract/shell';
import { readJsonFile, writeJsonFile } from './json-file';

export const RECENT_FILE = 'recent.json';
export const MAX_RECENT = 10;

export class RecentFiles {
  private items: RecentItem[];
  private readonly file: string;

  constructor(userData: string) {
    this.file = path.join(userData, RECENT_FILE);
    this.items = readJsonFile(this.file, RecentListSchema, []);
  }

  /** The list without entries whose file has gone. */
  list(): RecentItem[] {
    return this.items.filter((item) => existsSync(item.path));
  }

  add(item: RecentItem): void {
    const full = { kind: item.kind, path: path.resolve(item.path) };
    this.items = [full, ...this.items.filter((i) => i.path !== full.path)].slice(0, MAX_RECENT);
    writeJsonFile(this.file, this.items);
  }
}
