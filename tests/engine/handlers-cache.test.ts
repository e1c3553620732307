// The handlers' model cache: least recently used out first, disposal deferred while a request uses the
// model, failed loads not kept, one load shared by concurrent requests.
import { describe, it, expect } from 'vitest';
import { ModelCache } from '../../src-main/engine/handlers/model-cache';

class Fake {
  disposed = 0;
  constructor(readonly name: string) {}
  dispose() {
    this.disposed++;
  }
}

describe('the model cache', () => {
  it('keeps the most recently used models and disposes the others once', async () => {
    const cache = new ModelCache<Fake>(2);
    const made: Record<string, Fake> = {};
    const load = (name: string) => async () => (made[name] = new Fake(name));
    await cache.use('a', load('a'), () => undefined);
    await cache.use('b', load('b'), () => undefined);
    await cache.use('a', load('a-again'), () => undefined); // a is now the most recent
    await cache.use('c', load('c'), () => undefined);
    expect(made['a-again']).toBeUndefined();
    expect([made.a.disposed, made.b.disposed, made.c.disposed]).toEqual([0, 1, 0]);
    expect(cache.has('b')).toBe(false);
    cache.clear();
    expect([made.a.disposed, made.b.disposed, made.c.disposed]).toEqual([1, 1, 1]);
    expect(cache.size).toBe(0);
  });

  it('disposes an evicted model only after the request using it is done', async () => {
    const cache = new ModelCache<Fake>(1);
    const a = new Fake('a');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = cache.use('a', async () => a, async (m) => {
      await held;
      return m.disposed;
    });
    await new Promise((r) => setImmediate(r));
    await cache.use('b', async () => new Fake('b'), () => undefined);
    expect(a.disposed).toBe(0);
    release();
    expect(await slow).toBe(0);
    expect(a.disposed).toBe(1);
  });

  it('shares one load between concurrent requests and does not keep a failed one', async () => {
    const cache = new ModelCache<Fake>(2);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return new Fake('x');
    };
    const [m1, m2] = await Promise.all([cache.use('x', load, (m) => m), cache.use('x', load, (m) => m)]);
    expect(loads).toBe(1);
    expect(m1).toBe(m2);

    await expect(cache.use('bad', async () => Promise.reject(new Error('corrupt file')), () => undefined)).rejects.toThrow('corrupt file');
    expect(cache.has('bad')).toBe(false);
    expect(await cache.use('bad', async () => new Fake('fixed'), (m) => m.name)).toBe('fixed');
  });
});
