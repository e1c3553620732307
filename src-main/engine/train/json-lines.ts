// Append-only JSON-lines files (one object per line) that know their size, so a resumed run can cut
// them back to what its checkpoint had seen and rewrite the rest exactly.
import { appendFileSync, existsSync, statSync, truncateSync } from 'node:fs';

export class JsonLines {
  private size: number;

  constructor(readonly file: string) {
    this.size = existsSync(file) ? statSync(file).size : 0;
  }

  /** Bytes written so far: what a checkpoint records. */
  get bytes(): number {
    return this.size;
  }

  append(record: unknown): void {
    const line = Buffer.from(JSON.stringify(record) + '\n');
    appendFileSync(this.file, line);
    this.size += line.length;
  }

  /** Drops everything after `bytes` (lines a killed run wrote after its last checkpoint). */
  truncateTo(bytes: number): void {
    if (!existsSync(this.file)) {
      if (bytes > 0) throw new Error(`${this.file} is missing but the checkpoint expects ${bytes} bytes`);
      return;
    }
    const size = statSync(this.file).size;
    if (size < bytes) throw new Error(`${this.file} has ${size} bytes, fewer than the ${bytes} its checkpoint recorded`);
    truncateSync(this.file, bytes);
    this.size = bytes;
  }
}

/** Parses a JSON-lines file's complete lines (a torn last line, from a killed writer, is skipped). */
export function parseJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (err) {
      if (i < lines.length - 1) throw err;
    }
  });
  return out;
}
