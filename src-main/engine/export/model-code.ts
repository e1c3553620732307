// model.py of an exported package: the template's Net class filled in by walking the spec's layers (one
// module per spec layer, under the spec's name), with paddings worked out from the shapes the walk infers.
import { countParams, describeLayer, formatShape, inferShapes, type LayerShapeInfo, type LayerSpec, type ModelSpec, type Padding } from '../models/spec';
import { ExportError } from './errors';

type Sides = [number, number, number, number];

/** The model.py text for `spec`, from the template's placeholders. */
export function modelCode(template: string, spec: ModelSpec): string {
  const shapes = inferShapes(spec);
  const last = spec.layers.length - 1;
  const lines = spec.layers.map((layer, i) => moduleLine(layer, shapes[i], i === last));
  const forward = spec.layers.map((layer, i) => forwardLine(layer, shapes[i], i === last));
  const init = spec.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [`        ${py(l.name)}: (${pyValue(l.kernelInit)}, ${pyValue(l.biasInit)}),`] : []));
  const [h, w, c] = spec.input;
  const options = Object.entries(spec.options).map(([k, v]) => `${k}=${v}`).join(', ');
  return fill(template, {
    TITLE: spec.title,
    MODEL_ID: spec.id,
    OPTIONS: options || 'default options',
    INPUT_SHAPE: `(${h}, ${w}, ${c})`,
    CLASSES: String(spec.classes),
    PARAMETERS: String(countParams(spec).total),
    INPUT_CHANNELS: String(c),
    INPUT_HW: `${h} x ${w}`,
    INIT: `{\n${init.join('\n')}\n    }`,
    LAYERS: lines.map((l) => `        ${l}`).join('\n'),
    FORWARD: forward.join('\n'),
  });
}

function moduleLine(layer: LayerSpec, shape: LayerShapeInfo, isOutput: boolean): string {
  const self = `self.${layer.name}`;
  const inChannels = shape.inputShape[shape.inputShape.length - 1];
  switch (layer.kind) {
    case 'conv': {
      const pad = sides(shape.inputShape, layer.kernel, layer.stride, layer.padding);
      return `${self} = Conv(${inChannels}, ${layer.filters}, kernel=${layer.kernel}, stride=${layer.stride}, pad=(${pad.join(', ')}), groups=${layer.groups}, activation=${py(layer.activation)})`;
    }
    case 'maxPool':
    case 'avgPool': {
      const pad = sides(shape.inputShape, layer.size, layer.stride, layer.padding);
      if (layer.kind === 'avgPool' && pad.some((p) => p > 0)) {
        throw new ExportError(`layer ${layer.name}: average pooling with 'same' padding (Keras averages over the window inside the image only) is not exported`);
      }
      return `${self} = Pool(${py(layer.kind)}, size=${layer.size}, stride=${layer.stride}, pad=(${pad.join(', ')}))`;
    }
    case 'lrn':
      return `${self} = LocalResponseNorm(depth_radius=${layer.depthRadius}, bias=${layer.bias}, alpha=${layer.alpha}, beta=${layer.beta})`;
    case 'batchNorm':
      if (shape.inputShape.length !== 3) throw new ExportError(`layer ${layer.name}: batch normalisation of a flat input is not exported`);
      return `${self} = batch_norm(${inChannels}, keras_momentum=${layer.momentum}, epsilon=${layer.epsilon})`;
    case 'activation':
      if (layer.activation === 'softmax') throw new ExportError(`layer ${layer.name}: a softmax activation layer is not exported (the output dense layer carries the softmax)`);
      return `${self} = Activation(${py(layer.activation)})`;
    case 'flatten':
      return `${self} = FlattenHWC()`;
    case 'dense': {
      if (isOutput) {
        if (layer.activation !== 'softmax') throw new ExportError(`layer ${layer.name}: the output layer must be a dense softmax layer (ConvScope's loss takes its logits)`);
        return `${self} = Dense(${inChannels}, classes, activation="linear")  # softmax in ConvScope; the loss takes the logits`;
      }
      if (layer.activation === 'softmax') throw new ExportError(`layer ${layer.name}: softmax is exported on the output layer only`);
      return `${self} = Dense(${inChannels}, ${layer.units}, activation=${py(layer.activation)})`;
    }
    case 'dropout':
      return `${self} = nn.Dropout(${layer.rate})`;
  }
}

function forwardLine(layer: LayerSpec, shape: LayerShapeInfo, isOutput: boolean): string {
  const comment = `# ${describeLayer(layer)} -> ${formatShape(shape.outputShape)}`;
  if (isOutput) return `        return self.${layer.name}(x)  ${comment.replace(' softmax', ' (logits)')}`;
  return `        x = self.${layer.name}(x)  ${comment}`;
}

/** Zeros added [top, bottom, left, right]; Keras' 'same' puts an odd one at the bottom and right. */
export function sides(input: readonly number[], kernel: number, stride: number, padding: Padding): Sides {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  const axis = (size: number): [number, number] => {
    const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [...axis(input[0]), ...axis(input[1])] as Sides;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`export template: unknown placeholder ${whole}`);
    return values[key];
  });
}

function py(text: string): string {
  return JSON.stringify(text);
}

/** A JSON value as a Python literal (true/false/null spelled Python's way). */
export function pyValue(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyValue).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pyValue(v)}`).join(', ')}}`;
}
