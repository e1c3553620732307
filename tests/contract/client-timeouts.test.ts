// The calling side never waits forever: every request has a default reply timeout by the work it does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineClient, METHODS, REPLY_TIMEOUT_MS, REQUESTS, type PacketPort, type Packet } from '../../src-main/contract';

/** A port to an engine that never answers; it records what was sent. */
function silentPort(sent: Packet[] = []): PacketPort {
  return { postMessage: (packet) => void sent.push(packet), onMessage: () => () => undefined };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EngineClient: default timeouts', () => {
  it('gives every request a finite default timeout', () => {
    for (const method of METHODS) expect(Object.values(REPLY_TIMEOUT_MS), method).toContain(REQUESTS[method].timeoutMs);
  });

  it('times a quick request out after its default, and tells the engine side to cancel', async () => {
    vi.useFakeTimers();
    const sent: Packet[] = [];
    const client = new EngineClient(silentPort(sent));
    const reply = client.call('listModels', {});
    await vi.advanceTimersByTimeAsync(REPLY_TIMEOUT_MS.quick);
    expect(await reply).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(sent.map((p) => (p.meta as { kind: string }).kind)).toEqual(['request', 'cancel']);
  });

  it('waits longer for dataset-scale work, and for a subscription’s first reply too', async () => {
    vi.useFakeTimers();
    const client = new EngineClient(silentPort());
    let evaluated: unknown = null;
    void client.call('evaluate', { model: { kind: 'zoo', id: 'lenet5', overrides: {} }, dataset: 'mnist' }).then((r) => (evaluated = r));
    let watched: unknown = null;
    void client.subscribe('watchRuns', {}, { onEvent: () => undefined }).then((r) => (watched = r));
    await vi.advanceTimersByTimeAsync(REPLY_TIMEOUT_MS.model);
    expect(evaluated).toBeNull();
    expect(watched).toMatchObject({ ok: false, error: { code: 'timeout' } });
    await vi.advanceTimersByTimeAsync(REPLY_TIMEOUT_MS.dataset);
    expect(evaluated).toMatchObject({ ok: false, error: { code: 'timeout' } });
  });

  it('lets the caller choose another timeout', async () => {
    vi.useFakeTimers();
    const client = new EngineClient(silentPort());
    const reply = client.call('listModels', {}, { timeoutMs: 5 });
    await vi.advanceTimersByTimeAsync(5);
    expect(await reply).toMatchObject({ ok: false, error: { code: 'timeout', message: 'listModels got no reply within 5 ms' } });
  });
});
