// The renderer's request bookkeeping over any transport: ids, replies checked against the contract,
// subscriptions, cancels, and failing everything when the connection drops.
import { describe, it, expect } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../src-main/contract/wire';
import { RpcClient } from '../../src-renderer/src/host/client';
import { HostError } from '../../src-renderer/src/host/host';

function setup() {
  const sent: ClientMessage[] = [];
  const notices: unknown[] = [];
  const client = new RpcClient((m) => sent.push(m), (n) => notices.push(n));
  const reply = (m: ServerMessage) => client.receive(m);
  return { client, sent, notices, reply };
}

const backend = { requested: 'auto', chosen: 'wasm', tfBackend: 'wasm', skipped: [], versions: {}, description: 'wasm (SIMD, 1 thread)' };

describe('RpcClient', () => {
  it('matches replies to requests by id and checks them against the contract', async () => {
    const { client, sent, reply } = setup();
    const a = client.call('backendInfo', {});
    const b = client.call('listModels', {});
    expect(sent.map((m) => m.kind === 'request' && m.method)).toEqual(['backendInfo', 'listModels']);
    const [ida, idb] = sent.map((m) => m.id);
    reply({ kind: 'reply', id: idb, ok: true, result: { models: [] } });
    reply({ kind: 'reply', id: ida, ok: true, result: backend });
    await expect(a).resolves.toMatchObject({ chosen: 'wasm' });
    await expect(b).resolves.toEqual({ models: [] });
  });

  it('rejects a reply that does not match the contract, and passes engine errors on', async () => {
    const { client, sent, reply } = setup();
    const bad = client.call('backendInfo', {});
    reply({ kind: 'reply', id: sent[0].id, ok: true, result: { chosen: 'quantum' } });
    await expect(bad).rejects.toMatchObject({ code: 'invalid-reply' });
    const failed = client.call('listModels', {});
    reply({ kind: 'reply', id: sent[1].id, ok: false, error: { code: 'user-error', message: 'no such model' } });
    const err = await failed.catch((e) => e);
    expect(err).toBeInstanceOf(HostError);
    expect(err.message).toBe('no such model');
  });

  it('streams subscription events after the first reply and sends a cancel on close', async () => {
    const { client, sent, reply } = setup();
    const events: unknown[] = [];
    let ended = false;
    const pending = client.subscribe('subscribeRun', { runId: 'r1' }, { onEvent: (e) => events.push(e), onEnd: () => (ended = true) });
    const id = sent[0].id;
    reply({ kind: 'reply', id, ok: true, result: { runId: 'r1', runDir: '/runs/r1', state: 'running', progress: null, epochs: [], warnings: [] } });
    const sub = await pending;
    expect(sub.result.state).toBe('running');
    reply({ kind: 'event', id, event: { type: 'state', state: 'paused' } });
    reply({ kind: 'event', id, event: { type: 'nonsense' } }); // dropped, not delivered
    expect(events).toEqual([{ type: 'state', state: 'paused' }]);
    sub.close();
    expect(sent.at(-1)).toEqual({ kind: 'cancel', id });
    reply({ kind: 'event', id, event: { type: 'state', state: 'running' } });
    expect(events).toHaveLength(1);
    expect(ended).toBe(false);
  });

  it('cancels a request through its AbortSignal', async () => {
    const { client, sent } = setup();
    const controller = new AbortController();
    const p = client.call('listRuns', {}, controller.signal);
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(sent.at(-1)).toEqual({ kind: 'cancel', id: sent[0].id });
  });

  it('fails requests and ends subscriptions when the connection drops; passes notices on', async () => {
    const { client, sent, reply, notices } = setup();
    let endError: unknown = null;
    const pending = client.subscribe('subscribeRun', { runId: 'r1' }, { onEvent: () => {}, onEnd: (e) => (endError = e) });
    reply({ kind: 'reply', id: sent[0].id, ok: true, result: { runId: 'r1', runDir: '/r', state: 'running', progress: null, epochs: [], warnings: [] } });
    await pending;
    const call = client.call('listRuns', {});
    client.failAll({ code: 'closed', message: 'gone' });
    await expect(call).rejects.toMatchObject({ code: 'closed' });
    expect(endError).toEqual({ code: 'closed', message: 'gone' });
    reply({ kind: 'notice', notice: { type: 'engine-unavailable', reason: 'crashed 5 times' } });
    expect(notices).toEqual([{ type: 'engine-unavailable', reason: 'crashed 5 times' }]);
  });
});
