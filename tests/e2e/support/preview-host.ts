// A stand-in for `convscope serve` while the web host is being written: serves out/renderer and answers
// the contract's model, backend and dataset requests from the engine. Run: npx tsx tests/e2e/support/preview-host.ts
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { decodePacket, encodePacket } from '../../../src-main/contract/envelope';
import { decodeFrame, encodeFrame } from '../../../src-main/contract/frame';
import { getModelSpec, listModels, summarizeSpec } from '../../../src-main/engine/models';
import { builtinDatasets } from '../../../src-main/engine/data/registry';
import { initBackend } from '../../../src-main/engine/backend';
import { inspectImage } from '../../../src-main/engine/inspect/inspect';
import { convKernels } from '../../../src-main/engine/inspect/kernels';
import { resolveModel } from '../../../src-main/engine/inspect/model-ref';

await initBackend('wasm');
const f32 = (shape: number[], data: Float32Array) => ({ dtype: 'float32', shape, data });
async function resolve(ref: any) {
  return resolveModel(ref.kind === 'zoo' ? ref.id : ref.kind === 'run' ? ref.dir : ref.path, ref.kind === 'zoo' ? { overrides: ref.overrides } : {});
}

const root = path.resolve('out/renderer');
const token = 'preview';
const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const file = path.join(root, url.pathname === '/' ? 'index.html' : url.pathname);
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});

const handlers: Record<string, (p: any) => unknown> = {
  inspect: async (p) => {
    const resolved = await resolve(p.model);
    const o = p.options ?? {};
    const r = await inspectImage(resolved, p.image.data, { topK: o.topK ?? 5, saliency: o.saliency ? { classIndex: o.classIndex } : false, gradCam: o.gradCam ? { classIndex: o.classIndex } : false });
    return {
      input: f32([r.input.height, r.input.width, r.input.channels], r.input.values),
      image: { width: r.input.original.width, height: r.input.original.height, channels: r.input.original.channels },
      layers: r.layers.map((l) => ({ name: l.name, className: l.className, kind: l.kind, activation: l.activation, output: f32(l.shape, l.values), stats: l.stats })),
      predictions: r.predictions,
      classNames: resolved.classNames,
      saliency: r.saliency ? { classIndex: r.saliency.classIndex, score: r.saliency.score, map: f32([r.saliency.height, r.saliency.width], r.saliency.values) } : null,
      gradCam: r.gradCam
        ? { layer: r.gradCam.layer, classIndex: r.gradCam.classIndex, score: r.gradCam.score, map: f32([r.gradCam.height, r.gradCam.width], r.gradCam.values), upsampled: f32([r.gradCam.upsampled.height, r.gradCam.upsampled.width], r.gradCam.upsampled.values) }
        : null,
    };
  },
  kernels: async (p) => {
    const resolved = await resolve(p.model);
    return { layers: (await convKernels(resolved.model)).map((k) => ({ layer: k.name, kernel: f32(k.shape, k.values) })) };
  },
  listModels: () => ({ models: listModels() }),
  summary: (p) => summarizeSpec(getModelSpec(p.model.id, p.model.overrides)),
  backendInfo: () => ({ requested: 'auto', chosen: 'wasm', tfBackend: 'wasm', skipped: [{ backend: 'gpu', reason: 'preview host' }], versions: {}, description: 'wasm (preview host)' }),
  listDatasets: () => ({
    datasets: builtinDatasets().map((d) => ({ id: d.id, title: d.title, available: d.location !== null, classes: d.classNames.length, shape: d.shape, trainSize: d.trainCount, testSize: d.testCount, note: null })),
  }),
  listRuns: () => ({ dir: '/tmp/runs', runs: [] }),
};

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (ws, req) => {
  if (new URL(req.url ?? '', 'http://x').searchParams.get('token') !== token) return ws.close(1008);
  ws.on('message', (data: Buffer, isBinary) => {
    const msg = decodePacket(decodeFrame(isBinary ? new Uint8Array(data) : data.toString())) as { kind: string; id: number; method: string; params: unknown };
    if (msg.kind !== 'request') return;
    const send = (m: unknown) => ws.send(encodeFrame(encodePacket(m)));
    try {
      const h = handlers[msg.method];
      if (!h) throw new Error(`${msg.method} is not answered by the preview host`);
      Promise.resolve(h(msg.params)).then(
        (result) => send({ kind: 'reply', id: msg.id, ok: true, result }),
        (e) => send({ kind: 'reply', id: msg.id, ok: false, error: { code: 'user-error', message: (e as Error).message } }),
      );
    } catch (e) {
      send({ kind: 'reply', id: msg.id, ok: false, error: { code: 'user-error', message: (e as Error).message } });
    }
  });
});

const port = Number(process.env.PORT ?? 5181);
server.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/?token=${token}`));
