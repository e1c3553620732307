// The ideal: floating-point work per image, counted from a model spec. Only convolutions and dense
// layers are counted (pooling, activations, LRN and the loss are a few percent at most): one
// multiply-add is 2 FLOPs; training is counted as 3x the forward pass (forward, input gradient,
// weight gradient), as is customary, although the first layer needs no input gradient.
import { inferShapes, type ModelSpec } from '../src-main/engine/models';

export interface LayerWork {
  name: string;
  kind: 'conv' | 'dense';
  /** Multiply-adds of one image's forward pass. */
  macs: number;
}

export interface ModelWork {
  model: string;
  layers: LayerWork[];
  forwardFlops: number;
  trainingFlops: number;
}

export function modelWork(spec: ModelSpec): ModelWork {
  const layers: LayerWork[] = [];
  inferShapes(spec).forEach((info, i) => {
    const layer = spec.layers[i];
    if (layer.kind === 'conv') {
      const [oh, ow, filters] = info.outputShape;
      const inChannels = info.inputShape[2] / layer.groups;
      layers.push({ name: layer.name, kind: 'conv', macs: oh * ow * filters * layer.kernel * layer.kernel * inChannels });
    } else if (layer.kind === 'dense') {
      layers.push({ name: layer.name, kind: 'dense', macs: info.inputShape[0] * layer.units });
    }
  });
  const forwardFlops = 2 * layers.reduce((sum, l) => sum + l.macs, 0);
  return { model: spec.id, layers, forwardFlops, trainingFlops: 3 * forwardFlops };
}

/**
 * FLOPs of one kernel call from the shapes tf.profile records (conv and matmul kernels; 0 for the
 * rest). A conv's three kernels (forward, input and filter gradient) each cost its forward work.
 */
export function kernelFlops(name: string, inputShapes: number[][], outputShapes: number[][]): number {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const out = outputShapes[0];
  if (!out) return 0;
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const [fh, fw, ci] = inputShapes[1]; // x, filter
      return 2 * size(out) * fh * fw * ci;
    }
    case 'Conv2DBackpropInput': {
      const [dy, filter] = inputShapes; // dy [n,oh,ow,co], filter [fh,fw,ci,co]
      return 2 * size(dy) * filter[0] * filter[1] * filter[2];
    }
    case 'Conv2DBackpropFilter': {
      const dy = inputShapes[1]; // x, dy; output [fh,fw,ci,co]
      return 2 * size(dy) * out[0] * out[1] * out[2];
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // out [b, m, n]; a holds b*m*k values whether or not it is transposed.
      const [b, m] = out;
      return 2 * size(out) * (size(inputShapes[0]) / (b * m));
    }
    default:
      return 0;
  }
}
