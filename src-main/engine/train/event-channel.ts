// A typed event emitter that is also an async iterator: listeners see events synchronously, iterators
// receive every event emitted after they started, until the channel closes.
type Listener<E> = (event: E) => void;

export class EventChannel<E> implements AsyncIterable<E> {
  private readonly listeners = new Set<Listener<E>>();
  private readonly closers = new Set<() => void>();
  private closed = false;

  on(listener: Listener<E>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    if (this.closed) return;
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Ends every iterator (after it drains what it has queued); later events are dropped. */
  close(): void {
    this.closed = true;
    for (const close of [...this.closers]) close();
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    const queue: E[] = [];
    let wake: (() => void) | null = null;
    let done = this.closed;
    const signal = () => {
      wake?.();
      wake = null;
    };
    const off = this.on((event) => {
      queue.push(event);
      signal();
    });
    const closer = () => {
      done = true;
      signal();
    };
    this.closers.add(closer);
    const finish = (): IteratorResult<E> => {
      off();
      this.closers.delete(closer);
      return { value: undefined, done: true };
    };
    return {
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return finish();
      },
      return: async () => {
        done = true;
        return finish();
      },
    };
  }
}
