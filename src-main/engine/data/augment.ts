// The paper's data augmentation (Krizhevsky et al. 2012, section 4.1) on S x S uint8 HWC images:
// random size x size crops and their horizontal mirrors for training, the centre crop (or the ten
// corner/centre patches and mirrors) for testing, and PCA colour jitter. PCA works on pixels scaled
// to [0, 1] (with 0-255 units the eigenvalues are ~65,000x larger and alpha*lambda would swamp the image);
// the shift is then applied in 0-255 units. All randomness comes from one seeded PRNG with plain-data state.
import { createRandom, restoreRandom, type RngState, type SeededRandom } from '../train/rng';
import { pixelsPerImage, type DataSplit, type Examples, type ImageShape } from './dataset';

export interface RawImage {
  /** HWC uint8. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** An HWC image of any number type (uint8 pixels, float means): what crops read. */
export interface PixelImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/** An image's size without its pixels: all a crop place needs. */
export type ImageSize = Omit<PixelImage, 'data'>;

export interface CropPlace {
  top: number;
  left: number;
  mirror: boolean;
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function uniform(rng: SeededRandom): number {
  return rng.nextInt(2 ** 32) / 2 ** 32;
}

/** Standard normal by Box-Muller (no cached spare, so the PRNG state is the whole state). */
export function gaussian(rng: SeededRandom): number {
  const u1 = (rng.nextInt(2 ** 32) + 1) / (2 ** 32 + 1);
  const u2 = uniform(rng);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function checkCrop(image: ImageSize, size: number): void {
  if (!(Number.isInteger(size) && size >= 1 && size <= image.width && size <= image.height)) {
    throw new Error(`crop of ${size}x${size} does not fit a ${image.width}x${image.height} image`);
  }
}

export function centerCropPlace(image: ImageSize, size: number): CropPlace {
  checkCrop(image, size);
  return { top: Math.floor((image.height - size) / 2), left: Math.floor((image.width - size) / 2), mirror: false };
}

export function randomCropPlace(image: ImageSize, size: number, mirror: boolean, rng: SeededRandom): CropPlace {
  checkCrop(image, size);
  return {
    top: rng.nextInt(image.height - size + 1),
    left: rng.nextInt(image.width - size + 1),
    mirror: mirror && rng.nextInt(2) === 1,
  };
}

/** The paper's ten test patches: four corners and the centre, each also mirrored. */
export function tenCropPlaces(image: ImageSize, size: number): CropPlace[] {
  const centre = centerCropPlace(image, size);
  const bottom = image.height - size;
  const right = image.width - size;
  const places = [{ top: 0, left: 0 }, { top: 0, left: right }, { top: bottom, left: 0 }, { top: bottom, left: right }, centre];
  return [false, true].flatMap((mirror) => places.map((p) => ({ top: p.top, left: p.left, mirror })));
}

/**
 * Copies the size x size patch at `place` (mirrored left-right if asked) into out[offset...] as float32 HWC,
 * adding `shift[k]` to channel k when given (one pass for crop and colour jitter).
 */
export function cropInto(image: PixelImage, size: number, place: CropPlace, out: Float32Array, offset = 0, shift?: ArrayLike<number>): void {
  checkCrop(image, size);
  const { data, width, channels: c } = image;
  if (place.top < 0 || place.left < 0 || place.top + size > image.height || place.left + size > width) {
    throw new Error(`crop at (${place.top}, ${place.left}) of ${size}x${size} is outside the ${width}x${image.height} image`);
  }
  if (offset + size * size * c > out.length) throw new Error('cropInto: output too small');
  if (shift && shift.length !== c) throw new Error(`cropInto: shift has ${shift.length} values for ${c} channels`);
  const add = Float32Array.from({ length: c }, (_, k) => (shift ? shift[k] : 0));
  const step = place.mirror ? -c : c;
  for (let y = 0; y < size; y++) {
    let src = ((place.top + y) * width + place.left + (place.mirror ? size - 1 : 0)) * c;
    let o = offset + y * size * c;
    for (let x = 0; x < size; x++, src += step) {
      for (let k = 0; k < c; k++) out[o++] = data[src + k] + add[k];
    }
  }
}

/** Eigen-decomposition of a symmetric 3x3 matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen3(matrix: ArrayLike<number>): { values: [number, number, number]; vectors: [number, number, number][] } {
  if (matrix.length !== 9) throw new Error('symmetricEigen3: need 9 numbers (row-major 3x3)');
  const a = [0, 1, 2].map((i) => [0, 1, 2].map((j) => matrix[i * 3 + j]));
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const scale = Math.max(Math.abs(a[i][j]), Math.abs(a[j][i]), 1e-300);
      if (Math.abs(a[i][j] - a[j][i]) > 1e-9 * scale) throw new Error('symmetricEigen3: matrix is not symmetric');
    }
  }
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    const diag = a[0][0] ** 2 + a[1][1] ** 2 + a[2][2] ** 2;
    if (off <= 1e-30 * diag || off === 0) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      if (a[p][q] === 0) continue;
      // Rotation angle that zeroes a[p][q] (Numerical Recipes' stable form).
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cos = 1 / Math.sqrt(t * t + 1);
      const sin = t * cos;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p];
        const akq = a[k][q];
        a[k][p] = cos * akp - sin * akq;
        a[k][q] = sin * akp + cos * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k];
        const aqk = a[q][k];
        a[p][k] = cos * apk - sin * aqk;
        a[q][k] = sin * apk + cos * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p];
        const vkq = v[k][q];
        v[k][p] = cos * vkp - sin * vkq;
        v[k][q] = sin * vkp + cos * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  return {
    values: order.map((i) => a[i][i]) as [number, number, number],
    vectors: order.map((i) => [v[0][i], v[1][i], v[2][i]]) as [number, number, number][],
  };
}

/** Running mean and covariance of RGB pixels, in [0, 1] units. */
export class RgbCovariance {
  private count = 0;
  private readonly sums = new Float64Array(3);
  /** rr, rg, rb, gg, gb, bb */
  private readonly products = new Float64Array(6);

  /** Adds every pixel of an HWC RGB uint8 image. */
  add(image: RawImage): void {
    if (image.channels !== 3) throw new Error(`RGB covariance needs 3-channel images, got ${image.channels}`);
    const { data } = image;
    // Integer sums per image stay exact; the running totals are doubles.
    let r = 0, g = 0, b = 0, rr = 0, rg = 0, rb = 0, gg = 0, gb = 0, bb = 0;
    for (let i = 0; i < data.length; i += 3) {
      const R = data[i], G = data[i + 1], B = data[i + 2];
      r += R; g += G; b += B;
      rr += R * R; rg += R * G; rb += R * B; gg += G * G; gb += G * B; bb += B * B;
    }
    const s = this.sums;
    const p = this.products;
    s[0] += r; s[1] += g; s[2] += b;
    p[0] += rr; p[1] += rg; p[2] += rb; p[3] += gg; p[4] += gb; p[5] += bb;
    this.count += data.length / 3;
  }

  get pixels(): number {
    return this.count;
  }

  mean(): [number, number, number] {
    if (this.count === 0) throw new Error('RGB covariance of no pixels');
    return [0, 1, 2].map((k) => this.sums[k] / this.count / 255) as [number, number, number];
  }

  /** Row-major 3x3 population covariance. */
  covariance(): number[] {
    const m = this.mean();
    const n = this.count;
    const e = (k: number) => this.products[k] / n / (255 * 255);
    const rg = e(1) - m[0] * m[1];
    const rb = e(2) - m[0] * m[2];
    const gb = e(4) - m[1] * m[2];
    return [e(0) - m[0] ** 2, rg, rb, rg, e(3) - m[1] ** 2, gb, rb, gb, e(5) - m[2] ** 2];
  }
}

/** The principal components of the training set's RGB pixels (values in [0, 1] units, descending). */
export interface ColourPca {
  eigenvalues: [number, number, number];
  /** eigenvectors[i] is p_i, a unit RGB direction. */
  eigenvectors: [number, number, number][];
}

export function colourPca(covariance: RgbCovariance): ColourPca {
  const { values, vectors } = symmetricEigen3(covariance.covariance());
  return { eigenvalues: values, eigenvectors: vectors };
}

/**
 * Colour PCA of an RGB split's pixels. At most `maxImages` images (default 2000) enter, evenly spaced over
 * the split, so a large training set costs a bounded read; the estimate of a 3x3 covariance converges long before.
 */
export async function fitColourPca(split: DataSplit, options: { maxImages?: number; chunk?: number } = {}): Promise<ColourPca> {
  const [height, width, channels] = split.shape;
  if (channels !== 3) throw new Error(`PCA colour jitter needs RGB images, the split has ${channels} channel(s)`);
  const take = Math.min(split.count, options.maxImages ?? 2000);
  if (take < 1) throw new Error('colour PCA of an empty split');
  const indices = Int32Array.from({ length: take }, (_, i) => Math.floor((i * split.count) / take));
  const covariance = new RgbCovariance();
  const size = pixelsPerImage(split.shape);
  const chunk = options.chunk ?? 256;
  for (let start = 0; start < take; start += chunk) {
    const examples = await split.read(indices.subarray(start, Math.min(take, start + chunk)));
    for (let i = 0; i < examples.count; i++) covariance.add({ data: examples.images.subarray(i * size, (i + 1) * size), width, height, channels });
  }
  return colourPca(covariance);
}

/** The paper's per-image shift, in 0-255 units: sum_i alpha_i * lambda_i * p_i with alpha_i ~ N(0, std). */
export function pcaShift(pca: ColourPca, rng: SeededRandom, std = 0.1): [number, number, number] {
  const shift: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const w = gaussian(rng) * std * pca.eigenvalues[i] * 255;
    for (let k = 0; k < 3; k++) shift[k] += w * pca.eigenvectors[i][k];
  }
  return shift;
}

export interface AugmentOptions {
  /** Side of the square patch the model takes. */
  size: number;
  /** Training: random crops (with mirrors when `mirror`); otherwise the centre crop. */
  random: boolean;
  mirror: boolean;
  /** PCA colour jitter when set (RGB images only). */
  pca: ColourPca | null;
  /** Standard deviation of alpha_i (paper: 0.1). */
  pcaStd: number;
}

/**
 * Turns S x S images into size x size float32 patches (0-255 units, not clamped: the jitter may step
 * just outside), drawing crops, mirrors and colour shifts from its own seeded PRNG.
 */
export class Augmenter {
  private rng: SeededRandom;

  constructor(
    readonly options: AugmentOptions,
    seedOrState: number | RngState,
  ) {
    if (options.pca && !(options.pcaStd >= 0)) throw new Error(`pcaStd must be >= 0, got ${options.pcaStd}`);
    this.rng = typeof seedOrState === 'number' ? createRandom(seedOrState) : restoreRandom(seedOrState);
  }

  getState(): RngState {
    return this.rng.getState();
  }

  setState(state: RngState): void {
    this.rng = restoreRandom(state);
  }

  /**
   * The patches of a batch read from a split of `shape`: [count, size, size, channels] float32, NHWC.
   * Pass `out` (at least that long) to reuse one buffer across batches: a fresh 227x227x3x128 array costs
   * more in first-touch page faults than the crops themselves.
   */
  applyBatch(examples: Examples, shape: ImageShape, out?: Float32Array): Float32Array {
    const [height, width, channels] = shape;
    const inSize = pixelsPerImage(shape);
    const outSize = this.options.size * this.options.size * channels;
    const need = examples.count * outSize;
    if (out && out.length < need) throw new Error(`applyBatch: output holds ${out.length} floats, the batch needs ${need}`);
    const target = out ? out.subarray(0, need) : new Float32Array(need);
    for (let i = 0; i < examples.count; i++) {
      this.apply({ data: examples.images.subarray(i * inSize, (i + 1) * inSize), width, height, channels }, target, i * outSize);
    }
    return target;
  }

  /** Writes the patch for `image` at out[offset...], size*size*channels floats. */
  apply(image: RawImage, out: Float32Array, offset = 0): void {
    const { place, shift } = this.draw(image);
    cropInto(image, this.options.size, place, out, offset, shift ?? undefined);
  }

  /** The next example's crop place and colour shift (0-255 units; null without PCA), for callers that crop themselves. */
  draw(image: ImageSize): { place: CropPlace; shift: [number, number, number] | null } {
    const { size, pca } = this.options;
    const place = this.options.random ? randomCropPlace(image, size, this.options.mirror, this.rng) : centerCropPlace(image, size);
    if (pca && image.channels !== 3) throw new Error(`PCA colour jitter needs RGB images, got ${image.channels} channels`);
    return { place, shift: pca ? pcaShift(pca, this.rng, this.options.pcaStd) : null };
  }
}
