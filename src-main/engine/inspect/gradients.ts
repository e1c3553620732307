// Gradient views of one prediction: vanilla saliency (Simonyan et al. 2014) and Grad-CAM (Selvaraju et al.
// 2017). The class score is the pre-softmax logit where the output layer makes it reachable (a Dense or
// Activation softmax layer), else the probability.
import { tf } from '../tf';
import { layerActivation, layerKind } from '../models/layer-kind';
import { ClassChoiceError, InspectModelError, LayerChoiceError } from './errors';
import { downstreamOf, layerOutput, modelGraph, outputStep, runGraph, type ModelGraph, type Values } from './graph';

export type ScoreKind = 'logit' | 'probability';

export interface Heatmap {
  width: number;
  height: number;
  /** height x width, row-major. */
  values: Float32Array;
}

export interface SaliencyResult extends Heatmap {
  classIndex: number;
  score: ScoreKind;
}

export interface GradCamResult extends Heatmap {
  layer: string;
  classIndex: number;
  score: ScoreKind;
  /** The map resized (bilinear) to the input's height and width, for overlays. */
  upsampled: Heatmap;
}

export interface GradientOptions {
  /** Default: the top prediction. */
  classIndex?: number;
}

/** How the class score is read off the model's output layer. */
export function scoreKind(model: tf.LayersModel): ScoreKind {
  const step = outputStep(modelGraph(model));
  if (layerActivation(step.layer) !== 'softmax') return 'logit';
  const cls = step.layer.getClassName();
  if (cls === 'Activation' || cls === 'Softmax') return 'logit';
  if (cls === 'Dense' && step.inputs[0].shape.length === 2) return 'logit';
  return 'probability';
}

/** [n, classes] scores from the values of a finished graph run (inside tf.tidy). */
export function scores(graph: ModelGraph, values: Values, kind: ScoreKind): tf.Tensor {
  const step = outputStep(graph);
  const output = values.get(graph.output.id)!;
  if (kind === 'probability' || layerActivation(step.layer) !== 'softmax') return output;
  const input = values.get(step.inputs[0].id)!;
  if (step.layer.getClassName() !== 'Dense') return input; // Activation / Softmax layer: its input is the logits
  const [kernel, bias] = step.layer.weights.map((w) => w.read());
  const logits = tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D);
  return bias ? tf.add(logits, bias) : logits;
}

function checkClass(index: number, classes: number): number {
  if (!(Number.isInteger(index) && index >= 0 && index < classes)) {
    throw new ClassChoiceError(`class ${index} is not an output of this model (it has classes 0 to ${classes - 1})`);
  }
  return index;
}

/**
 * The class to explain: the one asked for, or the top prediction. Read with an awaited data(), as
 * WebGPU in Node cannot read synchronously; inspect passes the class it has already predicted.
 */
export async function chooseClass(graph: ModelGraph, x: tf.Tensor4D, classIndex: number | undefined): Promise<number> {
  if (classIndex !== undefined) return checkClass(classIndex, graph.output.shape[graph.output.shape.length - 1]!);
  const top = tf.tidy(() => tf.argMax(tf.reshape(runGraph(graph, new Map([[graph.input.id, x as tf.Tensor]])).get(graph.output.id)!, [-1])));
  const [c] = await top.data();
  top.dispose();
  return c;
}

/** The score of class `c` as a scalar (differentiable; feature visualisation ascends it). */
export function classScore(graph: ModelGraph, values: Values, kind: ScoreKind, c: number): tf.Scalar {
  const s = scores(graph, values, kind);
  return tf.reshape(tf.slice(tf.reshape(s, [-1]), [c], [1]), []) as tf.Scalar;
}

/**
 * Why saliency and Grad-CAM cannot run on this model, or null: TensorFlow.js computes dilated convolutions
 * (imported ones) but not their gradients.
 */
export function gradientsUnavailable(model: tf.LayersModel): string | null {
  const dilated = model.layers.filter((l) => {
    const rate = (l.getConfig() as { dilationRate?: number | number[] }).dilationRate;
    return rate !== undefined && [rate].flat().some((r) => r !== 1);
  });
  if (dilated.length === 0) return null;
  return `saliency and Grad-CAM need gradients, which TensorFlow.js does not compute through dilated convolutions (${dilated.map((l) => l.name).join(', ')})`;
}

function assertGradients(model: tf.LayersModel): void {
  const why = gradientsUnavailable(model);
  if (why) throw new InspectModelError(why);
}

/** |d score / d input|, the maximum over the input's channels: one value per input pixel. */
export async function saliency(model: tf.LayersModel, x: tf.Tensor4D, options: GradientOptions = {}): Promise<SaliencyResult> {
  assertGradients(model);
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const map = tf.tidy(() => {
    const grad = tf.grad((input: tf.Tensor) => {
      const values = runGraph(graph, new Map([[graph.input.id, input]]));
      return classScore(graph, values, kind, classIndex);
    })(x);
    return tf.max(tf.abs(grad), -1).squeeze([0]);
  });
  const [height, width] = map.shape;
  const values = (await map.data()) as Float32Array;
  map.dispose();
  return { width, height, values, classIndex, score: kind };
}

/** The layers Grad-CAM can use: those with a [h, w, c] output, in order; the default is the last conv. */
export function spatialLayers(model: tf.LayersModel): { name: string; className: string }[] {
  return modelGraph(model)
    .steps.filter((s) => s.outputs.length === 1 && s.outputs[0].shape.length === 4)
    .map((s) => ({ name: s.layer.name, className: s.layer.getClassName() }));
}

/** The score of class `c` for every example of a batch, [n] (inside tf.tidy). */
export function batchClassScores(graph: ModelGraph, values: Values, kind: ScoreKind, c: number): tf.Tensor1D {
  const s = scores(graph, values, kind) as tf.Tensor2D;
  return tf.reshape(tf.slice(s, [0, c], [-1, 1]), [-1]) as tf.Tensor1D;
}

function defaultCamLayer(graph: ModelGraph): string {
  const convs = graph.steps.filter((s) => s.outputs[0]?.shape.length === 4 && layerKind(s.layer) === 'conv');
  const last = convs.at(-1);
  if (!last) throw new LayerChoiceError('a class activation map needs a convolutional layer, and this model has none');
  return last.layer.name;
}

/** The layer a CAM method reads (default: the last convolution), checked to have a [h, w, c] output. */
export function camLayer(graph: ModelGraph, name: string | undefined): { name: string; tensor: tf.SymbolicTensor } {
  const layerName = name ?? defaultCamLayer(graph);
  const target = layerOutput(graph, layerName);
  if (!target) throw new LayerChoiceError(`the model has no layer '${layerName}' (layers: ${graph.steps.map((s) => s.layer.name).join(', ')})`);
  if (target.tensor.shape.length !== 4) {
    throw new LayerChoiceError(`a class activation map needs a layer with a height x width x channels output; ${layerName} outputs ${target.tensor.shape.slice(1).join('x')}`);
  }
  return { name: layerName, tensor: target.tensor };
}

/**
 * The chosen layer's activation A for input x and d score / dA, the backward pass starting at that layer
 * (inside tf.tidy).
 */
export function layerGradients(graph: ModelGraph, kind: ScoreKind, x: tf.Tensor, target: tf.SymbolicTensor, classIndex: number): { a: tf.Tensor; grads: tf.Tensor } {
  const down = downstreamOf(graph, target);
  const first = runGraph(graph, new Map([[graph.input.id, x]]));
  const fixed: Values = new Map([...first].filter(([id]) => !down.has(id)));
  const a = first.get(target.id)!;
  const grads = tf.grad((activation: tf.Tensor) => {
    const values = runGraph(graph, new Map([...fixed, [target.id, activation]]));
    return tf.sum(batchClassScores(graph, values, kind, classIndex)) as tf.Scalar;
  })(a);
  return { a, grads };
}

/**
 * Grad-CAM: ReLU(sum_k alpha_k A_k) with A the chosen layer's output and alpha_k the spatial mean of
 * d score / d A_k. Default layer: the last convolution.
 */
export async function gradCam(model: tf.LayersModel, x: tf.Tensor4D, options: GradientOptions & { layer?: string } = {}): Promise<GradCamResult> {
  assertGradients(model);
  const graph = modelGraph(model);
  const kind = scoreKind(model);
  const { name: layerName, tensor } = camLayer(graph, options.layer);
  const classIndex = await chooseClass(graph, x, options.classIndex);
  const [cam, upsampled] = tf.tidy(() => {
    const { a, grads } = layerGradients(graph, kind, x, tensor, classIndex);
    const alpha = tf.mean(grads, [0, 1, 2]); // [channels]
    const map = tf.relu(tf.sum(tf.mul(a, alpha), -1)) as tf.Tensor3D; // [1, h, w]
    const [, height, width] = x.shape;
    const big = tf.image.resizeBilinear(tf.expandDims(map, -1) as tf.Tensor4D, [height, width], false, true);
    return [tf.squeeze(map, [0]), tf.squeeze(big, [0, 3])];
  });
  const [h, w] = cam.shape;
  const [H, W] = upsampled.shape;
  const [camValues, bigValues] = (await Promise.all([cam.data(), upsampled.data()])) as Float32Array[];
  tf.dispose([cam, upsampled]);
  return {
    layer: layerName,
    classIndex,
    score: kind,
    width: w,
    height: h,
    values: camValues,
    upsampled: { width: W, height: H, values: bigValues },
  };
}
