// Inspecting one image: decode, prepare it as the model expects, one forward pass for every layer's
// output, per-layer statistics, top-k predictions, and optionally saliency and Grad-CAM.
import { tf } from '../tf';
import { decodeImage, type ImageInfo, type ImageInput } from '../data/image-decode';
import { computeActivations, type LayerActivation } from './activations';
import { InspectModelError } from './errors';
import { gradCam, saliency, type GradCamResult, type SaliencyResult } from './gradients';
import { activationStats, saturatedFraction, zeroChannels, type ActivationStats } from './layer-stats';
import { toProbabilities, topK, type Prediction } from './predictions';
import type { InputPreparer } from './input';

export interface InspectSubject {
  model: tf.LayersModel;
  /** [height, width, channels] of one input. */
  input: [number, number, number];
  classNames: readonly string[] | null;
  prepare: InputPreparer;
}

export interface InspectOptions {
  /** Predictions to return (default 5). */
  topK?: number;
  saliency?: boolean | { classIndex?: number };
  gradCam?: boolean | { layer?: string; classIndex?: number };
  /** Name of a buffer input in error messages. */
  name?: string;
}

export interface LayerReport extends LayerActivation {
  stats: ActivationStats;
  /** ReLU layers: channels that are zero at every position for this image. */
  deadChannels?: number[];
  /** tanh / sigmoid layers: fraction of outputs in the flat parts. */
  saturatedFraction?: number;
}

export interface InspectionInput {
  width: number;
  height: number;
  channels: number;
  /** The image as the model sees it, before normalisation: decoded, converted, resized (HWC uint8). */
  pixels: Uint8Array;
  /** What the model was fed (HWC float32). */
  values: Float32Array;
  original: ImageInfo;
}

export interface Inspection {
  input: InspectionInput;
  predictions: Prediction[];
  layers: LayerReport[];
  saliency?: SaliencyResult;
  gradCam?: GradCamResult;
  timings: { decodeMs: number; forwardMs: number; gradientsMs: number };
}

export async function inspectImage(subject: InspectSubject, image: ImageInput, options: InspectOptions = {}): Promise<Inspection> {
  const [height, width, channels] = subject.input;
  if (channels !== 1 && channels !== 3) throw new InspectModelError(`the model takes ${channels}-channel images; inspection reads grey (1) or RGB (3) images`);
  const t0 = performance.now();
  const decoded = await decodeImage(image, { channels, width, height, fit: subject.prepare.fit, name: options.name });
  const values = subject.prepare.toInput(decoded.data, [height, width, channels]);
  const t1 = performance.now();
  const x = tf.tensor4d(values, [1, height, width, channels]);
  try {
    const result = await inspectTensor(subject, x, options);
    const t2 = performance.now();
    const gradients = await gradientViews(subject.model, x, options, result.predictions[0]?.index);
    const t3 = performance.now();
    return {
      input: { width, height, channels, pixels: decoded.data, values, original: decoded.original },
      ...result,
      ...gradients,
      timings: { decodeMs: t1 - t0, forwardMs: t2 - t1, gradientsMs: t3 - t2 },
    };
  } finally {
    x.dispose();
  }
}

/** The forward part of an inspection on an already prepared input ([1, h, w, c]). */
export async function inspectTensor(subject: Pick<InspectSubject, 'model' | 'classNames'>, x: tf.Tensor4D, options: Pick<InspectOptions, 'topK'> = {}): Promise<{ predictions: Prediction[]; layers: LayerReport[] }> {
  const { layers, output } = await computeActivations(subject.model, x);
  const probs = toProbabilities(output.values, output.activation === 'softmax');
  return { predictions: topK(probs, options.topK ?? 5, subject.classNames), layers: layers.map(report) };
}

function report(a: LayerActivation): LayerReport {
  const r: LayerReport = { ...a, stats: activationStats(a.values) };
  if (a.activation === 'relu') r.deadChannels = zeroChannels(a.values, a.shape);
  if (a.activation === 'tanh' || a.activation === 'sigmoid') r.saturatedFraction = saturatedFraction(a.values, a.activation);
  return r;
}

async function gradientViews(model: tf.LayersModel, x: tf.Tensor4D, options: InspectOptions, top: number | undefined) {
  const out: { saliency?: SaliencyResult; gradCam?: GradCamResult } = {};
  if (options.saliency) {
    const o = options.saliency === true ? {} : options.saliency;
    out.saliency = await saliency(model, x, { classIndex: o.classIndex ?? top });
  }
  if (options.gradCam) {
    const o = options.gradCam === true ? {} : options.gradCam;
    out.gradCam = await gradCam(model, x, { layer: o.layer, classIndex: o.classIndex ?? top });
  }
  return out;
}
