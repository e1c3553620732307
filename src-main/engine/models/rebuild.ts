// The one loader of tfjs layers-model JSON files (model folders, inspection, `convscope import`): refuses a
// layer class tfjs cannot build in one line, refuses a model too big for the memory limit before its
// weights or activations are allocated, and frees whatever a build that fails half-way allocated.
import { tf } from '../tf';
import { ModelFileError } from './errors';
import './layers'; // registers GroupedConv2D and LocalResponseNormalization
import { checkModelMemory } from './memory-limit';
import { readWeightShards, weightBytes } from './weight-shards';

/** The layer classes ConvScope can build from a model.json (tfjs' own and ConvScope's), sorted. */
export function readableLayerClasses(): string[] {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.keys(map)
    .filter((name) => (map[name][0] as { prototype?: unknown }).prototype instanceof tf.layers.Layer)
    .sort();
}

/** Every class_name of a layer in a (Keras / tfjs) model topology, nested models included. */
function topologyLayerClasses(topology: unknown, out = new Set<string>()): Set<string> {
  if (typeof topology !== 'object' || topology === null) return out;
  const t = topology as { model_config?: unknown; class_name?: unknown; config?: unknown };
  if (t.model_config !== undefined) return topologyLayerClasses(t.model_config, out);
  if (typeof t.class_name === 'string') out.add(t.class_name);
  const config = t.config as { layers?: unknown } | unknown[] | undefined;
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | undefined)?.layers;
  if (Array.isArray(layers)) for (const layer of layers) topologyLayerClasses(layer, out);
  return out;
}

const elements = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

/** Every layer's output (the input layer's included) for one example, in bytes (float32), from the built model's symbolic shapes. */
function activationBytes(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      const shapes = node.outputShapes;
      for (const shape of Array.isArray(shapes[0]) ? (shapes as (number | null)[][]) : [shapes as (number | null)[]]) total += elements(shape);
    }
  }
  return total * 4;
}

let building: Promise<unknown> = Promise.resolve();

/** Runs builds one after another, so the variables a failed build leaves are told apart from another build's. */
function oneAtATime<T>(build: () => Promise<T>): Promise<T> {
  const next = building.then(build, build);
  building = next.catch(() => undefined);
  return next;
}

/**
 * tf.loadLayersModel, disposing the weights of the layers built before a failure: they are the variables
 * registered after the handler handed over the artifacts (tfjs builds synchronously from there on).
 */
async function buildFreeingOnFailure(artifacts: tf.io.ModelArtifacts, what: string): Promise<tf.LayersModel> {
  let before: Set<string> | null = null;
  const handler: tf.io.IOHandler = {
    load: async () => {
      before = new Set(Object.keys(tf.engine().registeredVariables));
      return artifacts;
    },
  };
  try {
    return await tf.loadLayersModel(handler);
  } catch (err) {
    const known = before as Set<string> | null;
    if (known) for (const [name, variable] of Object.entries(tf.engine().registeredVariables)) if (!known.has(name)) variable.dispose();
    throw new ModelFileError(`cannot rebuild ${what}: ${String((err as Error).message).split('\n')[0]}`);
  }
}

/** Builds the layers model `json` (read from `jsonPath`) with the weight shards it names; `what` names it in messages. */
export async function loadLayersModelJson(jsonPath: string, json: tf.io.ModelJSON, what: string): Promise<tf.LayersModel> {
  const known = new Set(readableLayerClasses());
  const unknown = [...topologyLayerClasses(json.modelTopology)].filter((c) => !known.has(c));
  if (unknown.length) {
    throw new ModelFileError(`${what} uses the layer class${unknown.length > 1 ? 'es' : ''} ${unknown.join(', ')}, which ConvScope cannot read (it reads ${[...known].join(', ')})`);
  }
  const weights = json.weightsManifest.reduce((sum, group) => sum + (Array.isArray(group?.weights) ? group.weights.reduce((s, w) => s + weightBytes(w), 0) : 0), 0);
  checkModelMemory({ weightBytes: weights, activationBytes: 0 }, what);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, (manifest) => readWeightShards(jsonPath, manifest));
  const model = await oneAtATime(() => buildFreeingOnFailure(artifacts, what));
  try {
    checkModelMemory({ weightBytes: weights, activationBytes: activationBytes(model) }, what);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
