// topPatches, visualize, neighbours, embedding: insight jobs run in the background of a subscription,
// reporting progress (at most about ten events a second) and then their result.
import type { EngineHandlers, SubscriptionSink } from '../../contract/api';
import { tensor, type ModelRef } from '../../contract/common';
import { toErrorInfo } from '../../contract/errors';
import type { ImageInput } from '../../contract/inspect';
import { tf } from '../tf';
import { featuresOf, nearest } from '../insight/features';
import { visualise } from '../insight/feature-vis';
import { mapLayout, type MapLayout } from '../insight/map-layout';
import { cachedTopPatches, patchPixels } from '../insight/top-patches';
import { InsightCache } from '../insight/cache';
import type { EngineContext } from './context';
import { plainF32 } from './convert';
import { userError } from './errors';
import { exampleImage } from './evaluate';
import { openModelSplit, splitFeatures, type ModelSplit } from './insight-data';
import { modelKey, type LoadedModel } from './model-refs';

type InsightHandlers = Pick<EngineHandlers, 'topPatches' | 'visualize' | 'neighbours' | 'embedding'>;

type JobEvent<R> = { kind: 'progress'; stage: string; done: number; total: number } | { kind: 'done'; result: R };

/** Accepts the job now and runs it on the model after the reply has gone out. */
function job<R>(ctx: EngineContext, model: ModelRef, sink: SubscriptionSink<JobEvent<R>>, work: (m: LoadedModel, progress: (stage: string, done: number, total: number) => void) => Promise<R>): { accepted: true } {
  let last = 0;
  const progress = (stage: string, done: number, total: number) => {
    const now = Date.now();
    if (sink.signal.aborted || (done < total && now - last < 100)) return;
    last = now;
    sink.emit({ kind: 'progress', stage, done, total });
  };
  setImmediate(() => {
    ctx
      .withModel(model, (m) => work(m, progress))
      .then((result) => {
        if (sink.signal.aborted) return;
        sink.emit({ kind: 'done', result });
        sink.end();
      })
      .catch((err) => sink.end(toErrorInfo(err)));
  });
  return { accepted: true };
}

async function imageBytes(m: LoadedModel, image: ImageInput): Promise<{ input: Uint8Array | string; name?: string }> {
  if (image.kind === 'bytes') return { input: image.data, name: image.name };
  if (image.kind === 'path') return { input: image.path };
  const example = await exampleImage(m, image.dataset, image.split, image.index);
  return { input: example.bytes, name: example.name };
}

/** The query image's feature vector at a layer. */
async function queryVector(m: LoadedModel, image: ImageInput, layer: string): Promise<{ vector: Float32Array; predicted: number }> {
  const { input, name } = await imageBytes(m, image);
  const prepared = await m.prepare.prepare(input, { name });
  const [f, p] = featuresOf(m.model, layer, prepared.x);
  const [vector, predicted] = await Promise.all([f.data(), p.data()]);
  tf.dispose([f, p, prepared.x]);
  return { vector: vector as Float32Array, predicted: predicted[0] };
}

/**
 * One run per key at a time, shared by every caller that asks while it runs (a second click on a
 * channel while the layer's pass runs waits for it instead of starting the pass again). Each caller passes its
 * own signal; the run's signal aborts once every caller sharing it has aborted (a closed dialog stops
 * a pass nobody else waits for). Settled runs are not kept: the disk cache keeps results.
 */
export function sharedRuns() {
  type Run = { result: Promise<unknown>; stop: AbortController; callers: number };
  const running = new Map<string, Run>();
  return <T>(key: string, make: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> => {
    let run = running.get(key);
    // A run being stopped is not joined (the channel clicked next in the same layer asks again at once).
    if (!run || run.stop.signal.aborted) {
      const started: Run = { result: Promise.resolve(), stop: new AbortController(), callers: 0 };
      started.result = make(started.stop.signal).finally(() => {
        if (running.get(key) === started) running.delete(key);
      });
      running.set(key, started);
      run = started;
    }
    const mine = run;
    mine.callers++;
    const leave = () => {
      if (--mine.callers === 0) mine.stop.abort(signal.reason);
    };
    if (signal.aborted) leave();
    else signal.addEventListener('abort', leave, { once: true });
    return mine.result as Promise<T>;
  };
}

export function insightHandlers(ctx: EngineContext, cache = new InsightCache()): InsightHandlers {
  const visualisations = new Map<string, ReturnType<typeof visualise>>();
  const shared = sharedRuns();
  const features = async (ref: ModelRef, m: LoadedModel, data: ModelSplit, layer: string | undefined, limit: number | undefined, progress: (stage: string, done: number, total: number) => void, signal: AbortSignal) => {
    const key = JSON.stringify(['features', await modelKey(ref), data.dataset, data.split, layer ?? null, limit ?? null]);
    return shared(key, (stop) => splitFeatures(m, data, layer, { cache, limit, onProgress: (done, total) => progress('feature vectors', done, total), signal: stop }), signal);
  };

  // The last UMAP layouts (each takes seconds to tens of seconds): switching the map back and forth is instant.
  const layouts = new Map<string, MapLayout>();
  const umapLayout = async (key: string, make: (signal: AbortSignal) => Promise<MapLayout>, signal: AbortSignal): Promise<MapLayout> => {
    const known = layouts.get(key);
    if (known) return known;
    const made = await shared(key, make, signal);
    layouts.set(key, made);
    if (layouts.size > 2) layouts.delete(layouts.keys().next().value!);
    return made;
  };

  return {
    topPatches: (p, sink) =>
      job(ctx, p.model, sink, async (m, progress) => {
        const split = p.split ?? 'test';
        const data = await openModelSplit(m, p.dataset, split);
        const key = JSON.stringify(['topPatches', await modelKey(p.model), p.layer, data.dataset, split, p.k ?? null, p.limit ?? null]);
        const result = await shared(key, (stop) =>
          cachedTopPatches(m.model, p.layer, data.served, { cache, dataset: data.dataset, split, preprocess: m.preprocessor }, {
            k: p.k,
            limit: p.limit,
            onProgress: (done, total) => progress('top patches', done, total),
            signal: stop,
          }),
        sink.signal);
        if (p.channel >= result.channels) throw userError(`layer ${p.layer} has channels 0 to ${result.channels - 1}; there is no channel ${p.channel}`, 'bad-channel');
        const one = { ...result, patches: [result.patches[p.channel]] };
        const [pixels] = await patchPixels(one, data.stored);
        return {
          layer: result.layer,
          channel: p.channel,
          channels: result.channels,
          dataset: data.dataset,
          split,
          examples: result.examples,
          cached: result.cached,
          field: { y: result.field.y, x: result.field.x },
          classNames: data.classNames,
          patches: one.patches[0].map((patch, i) => ({ ...patch, image: tensor('uint8', [pixels[i].height, pixels[i].width, pixels[i].channels], pixels[i].pixels) })),
        };
      }),

    visualize: (p, sink) =>
      job(ctx, p.model, sink, async (m, progress) => {
        const steps = p.steps ?? 256;
        const seed = p.seed ?? 0;
        const key = `${await modelKey(p.model)}:${JSON.stringify(p.objective)}:${steps}:${seed}`;
        const known = visualisations.get(key);
        const running = known ?? visualise(m.model, m.preprocessor, p.objective, { steps, seed, onProgress: (done, total) => progress('optimising', done, total) });
        if (!known) {
          visualisations.set(key, running);
          running.catch(() => visualisations.delete(key));
        }
        const vis = await running;
        return { image: tensor('uint8', [vis.height, vis.width, vis.channels], vis.pixels.slice()), steps, seed, history: Float32Array.from(vis.history), final: vis.final, cached: known !== undefined };
      }),

    neighbours: (p, sink) =>
      job(ctx, p.model, sink, async (m, progress) => {
        const split = p.split ?? 'train';
        const data = await openModelSplit(m, p.dataset, split);
        const set = await features(p.model, m, data, p.layer, p.limit, progress, sink.signal);
        const { vector, predicted } = await queryVector(m, p.image, set.layer);
        const t0 = performance.now();
        const found = nearest(set.vectors, set.dim, vector, p.k ?? 6);
        const searchMs = performance.now() - t0;
        const read = await data.stored.read(found.map((n) => n.index));
        return {
          layer: set.layer,
          dataset: data.dataset,
          split,
          predicted,
          classNames: data.classNames,
          neighbours: found.map((n) => ({ index: n.index, label: set.labels[n.index], distance: n.distance })),
          images: tensor('uint8', [read.count, ...data.stored.shape], read.images),
          searchMs,
        };
      }),

    embedding: (p, sink) =>
      job(ctx, p.model, sink, async (m, progress) => {
        const split = p.split ?? 'test';
        const data = await openModelSplit(m, p.dataset, split);
        const set = await features(p.model, m, data, p.layer, p.limit, progress, sink.signal);
        const method = p.method ?? 'pca';
        const map = method === 'umap'
          ? await umapLayout(
              JSON.stringify(['umap', await modelKey(p.model), data.dataset, split, set.layer, p.limit ?? null]),
              (stop) => mapLayout(set.vectors, set.dim, 'umap', { onProgress: (done, total) => progress('UMAP', done, total), signal: stop }),
              sink.signal,
            )
          : await mapLayout(set.vectors, set.dim, 'pca');
        const mark = p.image ? map.place((await queryVector(m, p.image, set.layer)).vector) : null;
        return {
          layer: set.layer,
          dataset: data.dataset,
          split,
          method,
          classNames: data.classNames,
          coords: plainF32(map.coords),
          // Copies: cached sets are views into one buffer, and results may be transferred.
          labels: new Int32Array(set.labels),
          predicted: new Int32Array(set.predicted),
          explained: map.explained,
          mark,
        };
      }),
  };
}
