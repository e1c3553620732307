// Feature visualisation by optimisation (Olah, Mordvintsev and Schubert, Distill 2017; Lucid's recipe):
// gradient ascent on an image parameterised in Fourier space (scaled by 1 / frequency) and, for RGB models,
// in Lucid's decorrelated colour space, squashed by a sigmoid; each step sees the image padded, jittered,
// scaled and rotated at random. Objectives: a channel's mean activation, or a class logit. Seeded: the
// same seed gives the same image.
import { tf } from '../tf';
import { layerOutput, modelGraph, runGraph } from '../inspect/graph';
import { classScore, scoreKind } from '../inspect/gradients';
import { ClassChoiceError, LayerChoiceError } from '../inspect/errors';
import type { Preprocessor } from '../data/preprocess';
import { createRandom } from '../train/rng';
import { inverseRfft2d, rfftFrequencies, rfftWidth } from './fourier';
import { bilinearWarp } from './warp';
import { modelUpTo } from './top-patches';

export type VisObjective = { kind: 'channel'; layer: string; channel: number } | { kind: 'class'; classIndex: number };

export interface VisOptions {
  steps?: number;
  /** Adam's learning rate (Lucid's 0.05). */
  learningRate?: number;
  seed?: number;
  /** Weight of the total-variation penalty (mean absolute neighbour difference); default 0. */
  tv?: number;
  /** Weight of the L2 penalty on the image's distance from grey; default 0. */
  l2?: number;
  /** Random pad, jitter, scale and rotation each step (default true). */
  transforms?: boolean;
  onProgress?: (step: number, steps: number, objective: number) => void;
}

export interface Visualisation {
  objective: VisObjective;
  steps: number;
  seed: number;
  /** The image, [height, width, channels] uint8. */
  height: number;
  width: number;
  channels: number;
  pixels: Uint8Array;
  /** The objective on each step's transformed image. */
  history: number[];
  /** The objective on the final image, untransformed. */
  final: number;
}

/** Lucid's ImageNet colour correlation (color_correlation_svd_sqrt). */
const COLOUR_CORRELATION = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/** The matrix rows multiply [r, g, b] by (t_flat . C^T), C with its columns divided by the largest column norm. */
function colourMatrix(): tf.Tensor2D {
  const norms = [0, 1, 2].map((j) => Math.hypot(...COLOUR_CORRELATION.map((row) => row[j])));
  const max = Math.max(...norms);
  // (C / max)^T, to right-multiply [n, 3] rows.
  return tf.tensor2d([0, 1, 2].map((j) => [0, 1, 2].map((i) => COLOUR_CORRELATION[i][j] / max)));
}

/** Lucid's jitters (8 and 4 pixels) for 224-pixel inputs, scaled to the input's size (at least a pixel each). */
function jitterSizes(side: number) {
  const k = side / 224;
  return { jitter1: Math.max(1, Math.round(8 * k)), jitter2: Math.max(1, Math.round(4 * k)) };
}

/**
 * Source coordinates of the output pixel grid after jitter, scale, rotation and jitter (inverse mapping about
 * the centre). Lucid's 12-pixel pad is the warp's grey fill: samples beyond the border read 0.5.
 */
function transformGrid(h: number, w: number, random: () => number): { ys: Float32Array; xs: Float32Array } {
  const { jitter1, jitter2 } = jitterSizes(Math.min(h, w));
  const int = (n: number) => Math.min(n, Math.floor(random() * (n + 1)));
  // Jitter d crops d pixels at a random offset in 0..d: a shift of offset - d / 2 about the centre.
  const shiftY = int(jitter1) - jitter1 / 2 + int(jitter2) - jitter2 / 2;
  const shiftX = int(jitter1) - jitter1 / 2 + int(jitter2) - jitter2 / 2;
  const scale = 1 + (Math.floor(random() * 11) - 5) / 50;
  const angles = [...Array.from({ length: 21 }, (_, i) => i - 10), 0, 0, 0, 0, 0];
  const theta = (angles[Math.floor(random() * angles.length)] * Math.PI) / 180;
  const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
  const [cos, sin] = [Math.cos(theta), Math.sin(theta)];
  const ys = new Float32Array(h * w);
  const xs = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [dy, dx] = [(y - cy) / scale, (x - cx) / scale];
      ys[y * w + x] = cy + cos * dy - sin * dx + shiftY;
      xs[y * w + x] = cx + sin * dy + cos * dx + shiftX;
    }
  }
  return { ys, xs };
}

/** Image [h, w, c] in [0, 1] -> the model's input [1, h, w, c] with its preprocessing ((255 v - mean) * scale). */
function toModelInput(img: tf.Tensor3D, p: Preprocessor): tf.Tensor4D {
  const [h, w, c] = img.shape;
  let mean: tf.Tensor | number = 0;
  if (p.mean.length === c) mean = tf.tensor1d(p.mean);
  else if (p.mean.length === h * w * c) mean = tf.tensor3d(p.mean, [h, w, c]);
  else if (p.mean.length > 0) mean = p.mean.reduce((a, b) => a + b, 0) / p.mean.length;
  return tf.expandDims(tf.mul(tf.sub(tf.mul(img, 255), mean), p.scale), 0) as tf.Tensor4D;
}

export function visualise(model: tf.LayersModel, preprocessor: Preprocessor, objective: VisObjective, options: VisOptions = {}): Promise<Visualisation> {
  const steps = options.steps ?? 256;
  const seed = options.seed ?? 0;
  const graph = modelGraph(model);
  const [, h, w, c] = graph.input.shape as number[];
  const score = objectiveFunction(model, objective);
  const random = (() => {
    const r = createRandom(seed);
    return () => r.nextInt(0x1000000) / 0x1000000;
  })();
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const wf = rfftWidth(w);
  const scale = rfftFrequencies(h, w).map((f) => Math.sqrt(w * h) / Math.max(f, 1 / Math.max(w, h)));
  const irfft = inverseRfft2d(h, w);
  const init = () => {
    const t = tf.tensor3d(Float32Array.from({ length: c * h * wf }, () => 0.01 * gauss()), [c, h, wf]);
    const v = tf.variable(t); // shares t's storage; t itself is released
    t.dispose();
    return v;
  };
  const re = init();
  const im = init();
  const scaleT = tf.tensor3d(scale, [1, h, wf]);
  const colours = c === 3 ? colourMatrix() : null;
  const optimizer = tf.train.adam(options.learningRate ?? 0.05);
  const image = (): tf.Tensor3D =>
    tf.tidy(() => {
      const spatial = tf.div(irfft.apply(tf.mul(re, scaleT) as tf.Tensor3D, tf.mul(im, scaleT) as tf.Tensor3D), 4); // [c, h, w]
      let hwc = tf.transpose(spatial, [1, 2, 0]) as tf.Tensor3D;
      if (colours) hwc = tf.reshape(tf.matMul(tf.reshape(hwc, [h * w, 3]), colours), [h, w, 3]);
      return tf.sigmoid(hwc);
    });
  const run = async (): Promise<Visualisation> => {
    const history: number[] = [];
    try {
      for (let step = 0; step < steps; step++) {
        const grid = options.transforms === false ? null : transformGrid(h, w, random);
        const cost = optimizer.minimize(
          () =>
            tf.tidy(() => {
              const img = image();
              const seen = grid ? bilinearWarp(img, grid.ys, grid.xs, h, w, 0.5) : img;
              let loss = tf.neg(score(toModelInput(seen, preprocessor)));
              if (options.tv) loss = tf.add(loss, tf.mul(options.tv, totalVariation(img)));
              if (options.l2) loss = tf.add(loss, tf.mul(options.l2, tf.mean(tf.square(tf.sub(img, 0.5)))));
              return loss as tf.Scalar;
            }),
          true,
          [re, im],
        )!;
        const value = -(await cost.data())[0];
        cost.dispose();
        history.push(value);
        options.onProgress?.(step + 1, steps, value);
      }
      const img = image();
      const finalScore = tf.tidy(() => score(toModelInput(img, preprocessor)));
      const [values, final] = await Promise.all([img.data(), finalScore.data()]);
      tf.dispose([img, finalScore]);
      const pixels = Uint8Array.from(values, (v) => Math.round(255 * v));
      return { objective, steps, seed, height: h, width: w, channels: c, pixels, history, final: final[0] };
    } finally {
      tf.dispose([re, im, scaleT, ...(colours ? [colours] : [])]);
      optimizer.dispose();
      irfft.dispose();
    }
  };
  return run();
}

function totalVariation(img: tf.Tensor3D): tf.Scalar {
  const [h, w, c] = img.shape;
  const dy = tf.sub(tf.slice(img, [1, 0, 0], [h - 1, w, c]), tf.slice(img, [0, 0, 0], [h - 1, w, c]));
  const dx = tf.sub(tf.slice(img, [0, 1, 0], [h, w - 1, c]), tf.slice(img, [0, 0, 0], [h, w - 1, c]));
  return tf.add(tf.mean(tf.abs(dy)), tf.mean(tf.abs(dx))) as tf.Scalar;
}

/** The scalar to ascend, as a function of the model's input [1, h, w, c]. */
function objectiveFunction(model: tf.LayersModel, objective: VisObjective): (x: tf.Tensor4D) => tf.Scalar {
  const graph = modelGraph(model);
  if (objective.kind === 'class') {
    const classes = graph.output.shape.at(-1) ?? 0;
    if (!(Number.isInteger(objective.classIndex) && objective.classIndex >= 0 && objective.classIndex < classes)) {
      throw new ClassChoiceError(`class ${objective.classIndex} is not an output of this model (it has classes 0 to ${classes - 1})`);
    }
    const kind = scoreKind(model);
    return (x) => classScore(graph, runGraph(graph, new Map([[graph.input.id, x as tf.Tensor]])), kind, objective.classIndex);
  }
  const out = layerOutput(graph, objective.layer);
  if (!out) throw new LayerChoiceError(`the model has no layer '${objective.layer}' (layers: ${graph.steps.map((s) => s.layer.name).join(', ')})`);
  const channels = out.tensor.shape.at(-1) ?? 0;
  if (!(Number.isInteger(objective.channel) && objective.channel >= 0 && objective.channel < channels)) {
    throw new LayerChoiceError(`layer ${objective.layer} has channels 0 to ${channels - 1}; there is no channel ${objective.channel}`);
  }
  const cut = modelUpTo(model, objective.layer);
  return (x) => {
    const a = cut.apply(x, { training: false }) as tf.Tensor;
    const flat = tf.reshape(a, [-1, channels]);
    return tf.mean(tf.slice(flat, [0, objective.channel], [-1, 1])) as tf.Scalar;
  };
}
