// Built or loaded models kept between requests, least recently used dropped first. A model in use by a
// request is disposed only once that request is done with it.
export interface Disposable {
  dispose(): void;
}

interface Entry<T extends Disposable> {
  ready: Promise<T>;
  value: T | null;
  leases: number;
  evicted: boolean;
}

export class ModelCache<T extends Disposable> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`model cache capacity must be a whole number >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Runs fn on the model cached under key, loading it first if needed; a failed load is not cached. */
  async use<R>(key: string, load: () => Promise<T>, fn: (value: T) => Promise<R> | R): Promise<R> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // re-inserted below: most recently used last
    } else {
      const created: Entry<T> = { ready: load(), value: null, leases: 0, evicted: false };
      created.ready.then(
        (value) => {
          created.value = value;
          this.release(created);
        },
        () => this.forget(key, created),
      );
      entry = created;
    }
    this.entries.set(key, entry);
    entry.leases++;
    this.trim();
    try {
      return await fn(await entry.ready);
    } finally {
      entry.leases--;
      this.release(entry);
    }
  }

  /** Drops every model (each disposed once no request uses it). */
  clear(): void {
    for (const [key, entry] of [...this.entries]) this.evict(key, entry);
  }

  private trim(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.capacity) return;
      this.evict(key, entry);
    }
  }

  private evict(key: string, entry: Entry<T>): void {
    this.forget(key, entry);
    entry.evicted = true;
    this.release(entry);
  }

  private forget(key: string, entry: Entry<T>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }

  private release(entry: Entry<T>): void {
    if (!entry.evicted || entry.leases > 0 || entry.value === null) return;
    const value = entry.value;
    entry.value = null;
    value.dispose();
  }
}
