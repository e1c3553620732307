// Inspecting one image: decode, prepare it as the model expects, one forward pass for every layer's
// output, per-layer statistics, top-k predictions, and optionally saliency and Grad-CAM, or any list of
// attribution methods (attribution/methods.ts).
import { tf } from '../tf';
import type { ImageInfo, ImageInput } from '../data/image-decode';
import { computeActivations, type LayerActivation } from './activations';
import { gradCam, saliency, type GradCamResult, type SaliencyResult } from './gradients';
import { attribute } from './attribution/methods';
import type { Attribution, AttributionMethod } from './attribution/target';
import { activationStats, saturatedFraction, zeroChannels, type ActivationStats } from './layer-stats';
import { toProbabilities, topK, type Prediction } from './predictions';
import type { InputPreparer } from './input';

export interface InspectSubject {
  model: tf.LayersModel;
  classNames: readonly string[] | null;
  prepare: InputPreparer;
}

export interface InspectOptions {
  /** Predictions to return (default 5). */
  topK?: number;
  saliency?: boolean | { classIndex?: number };
  gradCam?: boolean | { layer?: string; classIndex?: number };
  /** These methods' maps, in this order (the CAM methods read `layer`, default the last convolution). */
  attributions?: { methods: readonly AttributionMethod[]; layer?: string; classIndex?: number };
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
  /** The model's input size. */
  width: number;
  height: number;
  channels: number;
  /** What the model was fed (HWC float32, preprocessed). */
  values: Float32Array;
  /** The image as decoded for the model, before preprocessing (HWC uint8); its size is pixelShape. */
  pixels: Uint8Array;
  /** [height, width, channels] of pixels: the model's input size unless the model resizes its data (e.g. MNIST into AlexNet). */
  pixelShape: [number, number, number];
  original: ImageInfo;
}

export interface Inspection {
  input: InspectionInput;
  predictions: Prediction[];
  layers: LayerReport[];
  saliency?: SaliencyResult;
  gradCam?: GradCamResult;
  attributions?: Attribution[];
  timings: { decodeMs: number; forwardMs: number; gradientsMs: number };
}

export async function inspectImage(subject: InspectSubject, image: ImageInput, options: InspectOptions = {}): Promise<Inspection> {
  const t0 = performance.now();
  const prepared = await subject.prepare.prepare(image, { name: options.name });
  const { x } = prepared;
  try {
    const values = (await x.data()) as Float32Array;
    const t1 = performance.now();
    const result = await inspectTensor(subject, x, options);
    const t2 = performance.now();
    const gradients = await gradientViews(subject.model, x, options, result.predictions[0]?.index);
    const t3 = performance.now();
    const [, height, width, channels] = x.shape;
    return {
      input: { width, height, channels, values, pixels: prepared.pixels, pixelShape: [prepared.height, prepared.width, prepared.channels], original: prepared.original },
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
  const out: { saliency?: SaliencyResult; gradCam?: GradCamResult; attributions?: Attribution[] } = {};
  if (options.saliency) {
    const o = options.saliency === true ? {} : options.saliency;
    out.saliency = await saliency(model, x, { classIndex: o.classIndex ?? top });
  }
  if (options.gradCam) {
    const o = options.gradCam === true ? {} : options.gradCam;
    out.gradCam = await gradCam(model, x, { layer: o.layer, classIndex: o.classIndex ?? top });
  }
  if (options.attributions) {
    const { methods, layer, classIndex } = options.attributions;
    out.attributions = [];
    for (const method of methods) out.attributions.push(await attribute(method, model, x, { layer, classIndex: classIndex ?? top }));
  }
  return out;
}
