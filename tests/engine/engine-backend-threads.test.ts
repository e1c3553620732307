// The engine's one wasm backend and a run that asks for another thread count.
import { describe, it, expect } from 'vitest';
import { EngineBackend } from '../../src-main/engine/handlers/backend';

describe('EngineBackend thread count', () => {
  it('switches threads for a run only while nothing trains, and says why not otherwise', async () => {
    let switches = 0;
    const engine = new EngineBackend('wasm', () => switches++);
    await engine.ready();
    await expect(engine.forRun(undefined, 0, 1)).resolves.toBe('wasm');
    expect(engine.threads()).toBe(1);
    expect(switches).toBe(1);
    // the same count, or none asked: nothing restarts
    await engine.forRun('wasm', 1, 1);
    await engine.forRun(undefined, 1, null);
    expect(switches).toBe(1);
    await expect(engine.forRun(undefined, 1, 2)).rejects.toThrow(
      'this engine trains on 1 thread and 1 run is live; a run on 2 threads would switch the whole engine: stop the live runs first, or leave the thread count unset',
    );
    expect(engine.threads()).toBe(1);
    await engine.forRun(undefined, 0, 2);
    expect(engine.threads()).toBe(2);
    expect(switches).toBe(2);
  });
});
