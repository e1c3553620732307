// Every layer's output for one input from ONE forward pass of ONE multi-output model, built once per
// model and cached (it shares the model's layers and weights, so it costs no tensors).
import { tf } from '../tf';
import { layerActivation, layerKind, type LayerKind } from '../models/layer-kind';
import type { Activation } from '../models/spec';
import { InspectModelError } from './errors';
import { modelGraph } from './graph';

export interface LayerActivation {
  /** The layer's name (suffixed @2, @3 ... for further uses of a shared layer, :1 ... for extra outputs). */
  name: string;
  /** tfjs class, e.g. 'Conv2D', 'GroupedConv2D', 'MaxPooling2D'. */
  className: string;
  kind: LayerKind;
  /** The nonlinearity at the layer's output (null: none). */
  activation: Activation | 'other' | null;
  /** Without the batch axis, e.g. [55, 55, 96]. */
  shape: number[];
  values: Float32Array;
}

interface Probe {
  model: tf.LayersModel;
  outputs: { name: string; layer: tf.layers.Layer }[];
  /** Index of the original model's output among the probe's outputs. */
  finalIndex: number;
}

const probes = new WeakMap<tf.LayersModel, Probe>();

/** The cached multi-output model whose outputs are every layer's outputs, in dependency order. */
export function activationProbe(model: tf.LayersModel): Probe {
  const cached = probes.get(model);
  if (cached) return cached;
  const graph = modelGraph(model);
  const uses = new Map<tf.layers.Layer, number>();
  const outputs: Probe['outputs'] = [];
  const tensors: tf.SymbolicTensor[] = [];
  let finalIndex = -1;
  for (const step of graph.steps) {
    const use = (uses.get(step.layer) ?? 0) + 1;
    uses.set(step.layer, use);
    step.outputs.forEach((t, i) => {
      if (t.id === graph.output.id) finalIndex = tensors.length;
      const name = step.layer.name + (use > 1 ? `@${use}` : '') + (i > 0 ? `:${i}` : '');
      outputs.push({ name, layer: step.layer });
      tensors.push(t);
    });
  }
  const probe: Probe = { model: tf.model({ inputs: graph.input, outputs: tensors, name: `${model.name}_activations` }), outputs, finalIndex };
  probes.set(model, probe);
  return probe;
}

/** Every layer's output for a batch of one ([1, h, w, c]); the final layer's output is the last one that is the model's output. */
export async function computeActivations(model: tf.LayersModel, x: tf.Tensor): Promise<{ layers: LayerActivation[]; output: LayerActivation }> {
  if (x.shape[0] !== 1) throw new InspectModelError(`computeActivations takes a batch of one image, got a batch of ${x.shape[0]}`);
  const probe = activationProbe(model);
  const result = probe.model.predict(x);
  const tensors = Array.isArray(result) ? result : [result];
  try {
    const data = await Promise.all(tensors.map((t) => t.data()));
    const layers = probe.outputs.map(({ name, layer }, i): LayerActivation => ({
      name,
      className: layer.getClassName(),
      kind: layerKind(layer),
      activation: layerActivation(layer),
      shape: tensors[i].shape.slice(1),
      values: toFloat32(data[i]),
    }));
    return { layers, output: layers[probe.finalIndex] };
  } finally {
    tf.dispose(tensors);
  }
}

function toFloat32(a: tf.TypedArray | string[] | Uint8Array[]): Float32Array {
  if (a instanceof Float32Array) return a;
  return Float32Array.from(a as ArrayLike<number>);
}
