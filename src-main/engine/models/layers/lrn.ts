// Local response normalisation across channels (AlexNet section 3.3), and the mappings from the paper's
// and Caffe's parameterisations to tfjs' (depthRadius, bias, alpha, beta):
//   ours:  b_i = a_i / (bias + alpha * sum_{j=i-r..i+r} a_j^2)^beta          (tf.localResponseNormalization)
//   paper: b_i = a_i / (k + alpha * sum_{j=i-n/2..i+n/2} a_j^2)^beta          -> r = floor(n/2), same k, alpha
//   Caffe: b_i = a_i / (k + (alpha/n) * sum_{window of local_size n} a_j^2)^beta -> r = (n-1)/2, alpha/n
import { tf } from '../../tf';

import type { LayerArgs, Shape } from './layer-types';

export interface LrnParams {
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

/** The paper's values (k=2, n=5, alpha=1e-4, beta=0.75) in our convention. */
export const PAPER_LRN: Readonly<LrnParams> = Object.freeze({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });

/** The paper's (k, n, alpha, beta): alpha is used as is, the window spans n/2 (integer division) each side. */
export function lrnFromPaper(p: { k: number; n: number; alpha: number; beta: number }): LrnParams {
  return { depthRadius: Math.floor(p.n / 2), bias: p.k, alpha: p.alpha, beta: p.beta };
}

/** Caffe's LRN (ACROSS_CHANNELS) params; Caffe divides alpha by local_size and defaults k to 1. */
export function lrnFromCaffe(p: { localSize: number; alpha: number; beta: number; k?: number }): LrnParams {
  if (!(Number.isInteger(p.localSize) && p.localSize >= 1 && p.localSize % 2 === 1)) {
    throw new Error(`Caffe's LRN local_size must be an odd whole number, got ${p.localSize}`);
  }
  return { depthRadius: (p.localSize - 1) / 2, bias: p.k ?? 1, alpha: p.alpha / p.localSize, beta: p.beta };
}

export type LocalResponseNormalizationArgs = LayerArgs & Partial<LrnParams>;

export class LocalResponseNormalization extends tf.layers.Layer {
  static className = 'LocalResponseNormalization';
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;

  /** Unset params take the paper's values. */
  constructor(args: LocalResponseNormalizationArgs = {}) {
    super(args);
    this.depthRadius = args.depthRadius ?? PAPER_LRN.depthRadius;
    this.bias = args.bias ?? PAPER_LRN.bias;
    this.alpha = args.alpha ?? PAPER_LRN.alpha;
    this.beta = args.beta ?? PAPER_LRN.beta;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.localResponseNormalization(x, this.depthRadius, this.bias, this.alpha, this.beta);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta };
  }
}
tf.serialization.registerClass(LocalResponseNormalization);
