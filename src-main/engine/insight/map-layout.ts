// 2-D maps of feature vectors: PCA (instant, linear), or a UMAP layout (McInnes, Healy and Melville
// 2018, through PAIR's umap-js), seeded: the same vectors and seed give the same map. UMAP is slower
// (about 25 s for 10,000 84-d vectors on one core here), but it keeps apart the clusters that two
// linear axes lay over each other.
import { UMAP } from 'umap-js';
import { ConvscopeError } from '../errors';
import { pca, project } from './pca';
import { createRandom } from '../train/rng';

export interface UmapMap {
  /** count x 2, row-major. */
  coords: Float32Array;
  /** Places a new vector on the fitted map (UMAP's transform: its nearest fitted points pull it in). */
  place(vector: ArrayLike<number>): [number, number];
}

export interface UmapOptions {
  seed?: number;
  /** Neighbours of each point in the fuzzy graph (default 15, at most count - 1). */
  neighbours?: number;
  minDist?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The smallest set UMAP lays out. */
const UMAP_MIN_POINTS = 4;

export async function umapMap(vectors: Float32Array, dim: number, options: UmapOptions = {}): Promise<UmapMap> {
  const count = vectors.length / dim;
  if (!Number.isInteger(count) || count < UMAP_MIN_POINTS) throw new ConvscopeError(`UMAP needs at least ${UMAP_MIN_POINTS} vectors, got ${count}`, 'bad-argument');
  const rows = Array.from({ length: count }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
  const rng = createRandom(options.seed ?? 1);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(options.neighbours ?? 15, count - 1),
    minDist: options.minDist ?? 0.1,
    random: () => rng.nextInt(0x40000000) / 0x40000000,
  });
  const epochs = umap.initializeFit(rows);
  for (let epoch = 0; epoch < epochs; epoch++) {
    umap.step();
    if (epoch % 10 === 9 || epoch === epochs - 1) {
      options.onProgress?.(epoch + 1, epochs);
      // Let progress events out and a cancellation in.
      await new Promise((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
    }
  }
  const coords = Float32Array.from(umap.getEmbedding().flat());
  return {
    coords,
    place(vector) {
      const [p] = umap.transform([Array.from(vector)]);
      return [p[0], p[1]];
    },
  };
}

export type MapMethod = 'pca' | 'umap';

/** A 2-D map of feature vectors, and how a new vector lands on it. */
export interface MapLayout extends UmapMap {
  /** PCA: the share of the variance each axis explains; UMAP: empty. */
  explained: number[];
}

/** The map of `vectors` by PCA (instant, linear) or UMAP (`options` as umapMap's). */
export async function mapLayout(vectors: Float32Array, dim: number, method: MapMethod, options: UmapOptions = {}): Promise<MapLayout> {
  if (method === 'umap') return { ...(await umapMap(vectors, dim, options)), explained: [] };
  const axes = pca(vectors, dim);
  return {
    coords: axes.coords,
    explained: axes.explained,
    place(vector) {
      const at = project(Float32Array.from(vector), dim, axes.mean, axes.axes, 2);
      return [at[0], at[1]];
    },
  };
}
