// Progress output on stderr: one line redrawn in place on a terminal, a line per tenth otherwise.

export class StatusLine {
  private lastDraw = 0;
  private lastTenth = -1;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** `fraction` decides when a non-terminal gets a new line; `force` draws now (e.g. at the end of a stage). */
  update(text: string, fraction: number, force = false): void {
    if (this.out.isTTY) {
      const now = Date.now();
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else {
      const tenth = Math.floor(fraction * 10);
      if (!force && tenth === this.lastTenth) return;
      this.lastTenth = tenth;
      this.out.write(text + '\n');
    }
  }

  line(text: string): void {
    this.done();
    this.out.write(text + '\n');
  }

  done(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}

export function bar(fraction: number, width = 20): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export function eta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
