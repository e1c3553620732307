// The engine's one wasm backend and a run that asks for another thread count.
import { describe, it, expect } from 'vitest';
import { EngineBackend } from '../../src-main/engine/handlers/backend';

const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;

describe('EngineBackend thread count', () => {
  it('switches threads for a run only while nothing trains, and says why not otherwise', async () => {
    let switches = 0;
    const engine = new EngineBackend('wasm', () => switches++);
    await engine.ready();
    // Whatever the engine started on (CONVSCOPE_THREADS or every core), a run asks for another count.
    const start = engine.threads();
    if (start === undefined) throw new Error('the wasm backend reports no thread count');
    const other = start === 1 ? 2 : 1;
    await expect(engine.forRun(undefined, 0, other)).resolves.toBe('wasm');
    expect(engine.threads()).toBe(other);
    expect(switches).toBe(1);
    // the same count, or none asked: nothing restarts
    await engine.forRun('wasm', 1, other);
    await engine.forRun(undefined, 1, null);
    expect(switches).toBe(1);
    await expect(engine.forRun(undefined, 1, start)).rejects.toThrow(
      `this engine trains on ${plural(other)} and 1 run is live; a run on ${plural(start)} would switch the whole engine: stop the live runs first, or leave the thread count unset`,
    );
    expect(engine.threads()).toBe(other);
    await engine.forRun(undefined, 0, start);
    expect(engine.threads()).toBe(start);
    expect(switches).toBe(2);
  });
});
