// Recognises a lowered chain as one of the zoo's models (with options), so that the zoo's own spec and
// builder make the model and the app's zoo views apply. Names and initialisers are not compared; LRN and
// batch-norm constants are taken from the source (BVLC's Caffe LRN uses k=1 and alpha/n, not the paper's).
// A source that outputs logits (PyTorch models end in their last Linear) matches a zoo model whose output
// layer adds a softmax: the zoo's views and training need it, and its logits stay the output layer's input.
import { tf } from '../tf';
import { buildModel, getModelSpec, listModels, type Overrides } from '../models';
import { canonicalPadding, type LayerSpec, type ModelSpec, type OptionValue } from '../models/spec';
import { setLayerWeights } from './build';
import { MODEL_INPUT, type LayerPlan, type PlanLayer } from './plan';

export interface ZooMatch {
  spec: ModelSpec;
  /** Options given to getModelSpec (defaults left out). */
  overrides: Record<string, OptionValue>;
  /** Spec constants replaced by the source's, e.g. 'lrn1: bias 1, alpha 2e-5 (Caffe convention)'. */
  patched: string[];
  /** The source's output layer is linear (logits); the zoo model's adds a softmax to it. */
  softmaxAdded: boolean;
}

const ACTIVATIONS = new Set(['relu', 'tanh', 'sigmoid']);

/** The first zoo model whose spec (with inferred options) has exactly the plan's layers, or null. */
export function matchZoo(plan: LayerPlan): ZooMatch | null {
  if (!isChain(plan)) return null;
  const layers = plan.layers;
  const convs = layers.filter((l) => l.config.kind === 'conv');
  const denses = layers.filter((l) => l.config.kind === 'dense');
  if (convs.length === 0 || denses.length === 0) return null;
  const last = layers[layers.length - 1].config;
  if (last.kind !== 'dense') return null;
  const firstConv = convs[0].config as { filters: number; activation: string };
  const hidden = denses.slice(0, -1);
  const firstHidden = hidden[0]?.config as { units: number; activation: string } | undefined;
  if (!ACTIVATIONS.has(firstConv.activation) || (firstHidden && !ACTIVATIONS.has(firstHidden.activation))) return null;
  const firstPool = layers.find((l) => l.config.kind === 'maxPool')?.config as { size: [number, number] } | undefined;
  const dropout = layers.find((l) => l.config.kind === 'dropout')?.config as { rate: number } | undefined;
  const [h, w, c] = plan.input;

  for (const model of listModels()) {
    const keys = new Set(model.options.map((o) => o.key));
    const base = getModelSpec(model.id);
    const zooConv = base.layers.find((l) => l.kind === 'conv') as { filters: number };
    const zooDense = base.layers.find((l) => l.kind === 'dense') as { units: number };
    const candidates: Record<string, OptionValue | undefined> = {
      input: `${h}x${w}x${c}`,
      classes: last.units,
      activation: firstConv.activation,
      fcActivation: firstHidden?.activation,
      dropout: dropout?.rate ?? 0,
      lrn: layers.some((l) => l.config.kind === 'lrn'),
      grouped: convs.some((l) => (l.config as { groups: number }).groups > 1),
      batchNorm: layers.some((l) => l.config.kind === 'batchNorm'),
      overlap: firstPool ? firstPool.size[0] === 3 : undefined,
    };
    const widths = new Set([1, firstConv.filters / zooConv.filters, firstHidden ? firstHidden.units / zooDense.units : 1]);
    for (const width of widths) {
      for (const overlap of keys.has('overlap') && model.options.find((o) => o.key === 'overlap')?.default === null ? [candidates.overlap, undefined] : [candidates.overlap]) {
        const overrides: Record<string, OptionValue> = {};
        for (const [k, v] of Object.entries({ ...candidates, overlap, width })) if (v !== undefined && keys.has(k)) overrides[k] = v;
        let spec: ModelSpec;
        try {
          spec = getModelSpec(model.id, overrides as Overrides);
        } catch {
          continue;
        }
        if (spec.layers.length !== layers.length) continue;
        const lastIndex = layers.length - 1;
        if (spec.layers.every((s, i) => sameLayer(s, layers[i], i === lastIndex))) {
          const softmaxAdded = last.activation === 'linear';
          return { spec, overrides: withoutDefaults(overrides, model.options), patched: patchConstants(spec, layers), softmaxAdded };
        }
      }
    }
  }
  return null;
}

/**
 * Builds the matched spec and loads the plan's weights into it, layer by layer. The layers are created with
 * zero initialisers: drawing 61M random numbers only to overwrite them would cost seconds.
 */
export function buildZooModel(match: ZooMatch, plan: LayerPlan): tf.LayersModel {
  const zeros = { kind: 'zeros' } as const;
  const spec: ModelSpec = { ...match.spec, layers: match.spec.layers.map((l) => (l.kind === 'conv' || l.kind === 'dense' ? { ...l, kernelInit: zeros, biasInit: zeros } : l)) };
  const model = buildModel(spec, { seed: 0 });
  match.spec.layers.forEach((s, i) => setLayerWeights(model.getLayer(s.name), plan.layers[i]));
  return model;
}

function isChain(plan: LayerPlan): boolean {
  return plan.output === plan.layers.length - 1 && plan.layers.every((l, i) => l.inputs.length === 1 && l.inputs[0] === (i === 0 ? MODEL_INPUT : i - 1));
}

/** `output`: the model's last layer, where a linear source layer stands for the spec's softmax one. */
function sameLayer(s: LayerSpec, p: PlanLayer, output: boolean): boolean {
  const c = p.config;
  switch (s.kind) {
    case 'conv':
      return (
        c.kind === 'conv' && !c.dilation && c.useBias && c.kernel[0] === s.kernel && c.kernel[1] === s.kernel && c.strides[0] === s.stride && c.strides[1] === s.stride &&
        c.filters === s.filters && c.groups === s.groups && c.activation === s.activation &&
        canonicalPadding(s.kernel, s.stride, c.padding) === canonicalPadding(s.kernel, s.stride, s.padding)
      );
    case 'maxPool':
    case 'avgPool':
      return c.kind === s.kind && c.size[0] === s.size && c.size[1] === s.size && c.strides[0] === s.stride && c.strides[1] === s.stride && c.padding === s.padding;
    case 'dense':
      return c.kind === 'dense' && c.useBias && c.units === s.units && (c.activation === s.activation || (output && s.activation === 'softmax' && c.activation === 'linear'));
    case 'dropout':
      return c.kind === 'dropout' && Math.abs(c.rate - s.rate) < 1e-6;
    case 'activation':
      return c.kind === 'activation' && c.activation === s.activation;
    case 'lrn':
    case 'batchNorm':
    case 'flatten':
      return c.kind === s.kind;
  }
}

/** Copies LRN and batch-norm constants from the source into the spec; returns what changed. */
function patchConstants(spec: ModelSpec, layers: PlanLayer[]): string[] {
  const patched: string[] = [];
  spec.layers.forEach((s, i) => {
    const c = layers[i].config;
    if (s.kind === 'lrn' && c.kind === 'lrn') {
      const { depthRadius, bias, alpha, beta } = c;
      if (s.depthRadius !== depthRadius || s.bias !== bias || s.alpha !== alpha || s.beta !== beta) {
        Object.assign(s, { depthRadius, bias, alpha, beta });
        patched.push(`${s.name}: depthRadius ${depthRadius}, bias ${bias}, alpha ${alpha}, beta ${beta}`);
      }
    }
    if (s.kind === 'batchNorm' && c.kind === 'batchNorm' && s.epsilon !== c.epsilon) {
      s.epsilon = c.epsilon;
      patched.push(`${s.name}: epsilon ${c.epsilon}`);
    }
  });
  return patched;
}

/** The overrides that differ from the model's defaults (fcActivation defaulting to "same as activation" included). */
function withoutDefaults(overrides: Record<string, OptionValue>, options: { key: string; default: OptionValue | null }[]): Record<string, OptionValue> {
  const def = (k: string) => options.find((o) => o.key === k)?.default;
  const activation = overrides.activation ?? def('activation');
  return Object.fromEntries(
    Object.entries(overrides).filter(([k, v]) => def(k) !== v && !(k === 'fcActivation' && def(k) === null && v === activation)),
  );
}
