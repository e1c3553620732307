// A model's layer graph run eagerly, one layer at a time, so that gradients can be taken with respect to
// any layer's output (tfjs' LayersModel only differentiates with respect to its inputs). Works for the
// zoo's chains and for any functional or Sequential model loaded from model.json.
import { tf } from '../tf';
import { layerKind } from '../models/layer-kind';
import { InspectModelError } from './errors';

/** The part of a tfjs-layers Node this module reads (the class is not exported by tfjs). */
interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

export interface GraphStep {
  layer: tf.layers.Layer;
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
}

/** Symbolic tensor id -> concrete value. */
export type Values = Map<number, tf.Tensor>;

/** The model's single input and its computation steps in an order where every input is ready. */
export interface ModelGraph {
  input: tf.SymbolicTensor;
  output: tf.SymbolicTensor;
  steps: GraphStep[];
}

const graphs = new WeakMap<tf.LayersModel, ModelGraph>();

export function modelGraph(model: tf.LayersModel): ModelGraph {
  const cached = graphs.get(model);
  if (cached) return cached;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new InspectModelError(`${model.name}: inspection needs a model with one input and one output (it has ${model.inputs.length} and ${model.outputs.length})`);
  }
  const input = model.inputs[0];
  const known = new Set<number>([input.id]);
  const pending: GraphStep[] = [];
  for (const layer of model.layers) {
    if (layerKind(layer) === 'input') continue;
    for (const node of layer.inboundNodes as unknown as GraphNode[]) {
      pending.push({ layer, inputs: node.inputTensors, outputs: node.outputTensors });
    }
  }
  // model.layers is already in dependency order; this loop also copes with shared layers listed once.
  const steps: GraphStep[] = [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (let i = 0; i < pending.length; i++) {
      const step = pending[i];
      if (!step.inputs.every((t) => known.has(t.id))) continue;
      steps.push(step);
      step.outputs.forEach((t) => known.add(t.id));
      pending.splice(i--, 1);
      progressed = true;
    }
  }
  const output = model.outputs[0];
  if (!known.has(output.id)) throw new InspectModelError(`${model.name}: its output cannot be reached from its input layer by layer`);
  const graph = { input, output, steps };
  graphs.set(model, graph);
  return graph;
}

/**
 * Runs the steps in inference mode. `values` holds what is already known (the input, and any layer
 * output to substitute); steps whose outputs are all known are skipped, steps with a missing input are
 * skipped too (they do not lie downstream of what was given). Call inside tf.tidy.
 */
export function runGraph(graph: ModelGraph, values: Values): Values {
  for (const step of graph.steps) {
    if (step.outputs.every((t) => values.has(t.id))) continue;
    const inputs = step.inputs.map((t) => values.get(t.id));
    if (inputs.some((v) => v === undefined)) continue;
    const out = step.layer.apply(inputs.length === 1 ? inputs[0]! : (inputs as tf.Tensor[]), { training: false }) as tf.Tensor | tf.Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    step.outputs.forEach((t, i) => values.set(t.id, outs[i]));
  }
  return values;
}

/** Ids of the symbolic tensors computed from `from` (itself included). */
export function downstreamOf(graph: ModelGraph, from: tf.SymbolicTensor): Set<number> {
  const down = new Set<number>([from.id]);
  for (const step of graph.steps) {
    if (step.inputs.some((t) => down.has(t.id))) step.outputs.forEach((t) => down.add(t.id));
  }
  return down;
}

/** The step that produces the model's output. */
export function outputStep(graph: ModelGraph): GraphStep {
  return graph.steps.find((s) => s.outputs.some((t) => t.id === graph.output.id))!;
}

/** A layer's (single) output tensor in the graph, by layer name. */
export function layerOutput(graph: ModelGraph, name: string): { step: GraphStep; tensor: tf.SymbolicTensor } | null {
  const step = graph.steps.find((s) => s.layer.name === name);
  if (!step) return null;
  return { step, tensor: step.outputs[0] };
}
