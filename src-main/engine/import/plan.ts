// The lowered model: tfjs-style layers (channels-last) with their weights already in tfjs layouts.
import type { Activation } from '../models/spec';
import type { LrnParams } from '../models/layers/lrn';

export type PlanPadding = 'valid' | 'same' | number;

export type PlanLayerConfig =
  | { kind: 'conv'; filters: number; kernel: [number, number]; strides: [number, number]; padding: PlanPadding; groups: number; activation: Activation; useBias: boolean; dilation?: [number, number] }
  /** ReLU with a ceiling (ReLU6: ONNX Clip from 0 to 6). */
  | { kind: 'relu'; maxValue: number }
  | { kind: 'zeroPad'; pads: [[number, number], [number, number]] }
  | { kind: 'dense'; units: number; activation: Activation; useBias: boolean }
  | { kind: 'maxPool' | 'avgPool'; size: [number, number]; strides: [number, number]; padding: 'valid' | 'same' }
  | ({ kind: 'lrn' } & LrnParams)
  | { kind: 'batchNorm'; epsilon: number }
  | { kind: 'activation'; activation: Activation }
  | { kind: 'flatten' }
  | { kind: 'dropout'; rate: number }
  | { kind: 'concat' }
  | { kind: 'add' };

export interface PlanLayer {
  name: string;
  /** Indices of the layers whose outputs it takes; MODEL_INPUT for the image. */
  inputs: number[];
  config: PlanLayerConfig;
  /** In tfjs order (kernel, bias; BN: gamma, beta, moving mean, moving variance) and layouts (HWIO, [in, out]). */
  weights: { shape: number[]; values: Float32Array }[];
  /** The source node(s) it came from, for messages. */
  source: string;
}

export const MODEL_INPUT = -1;

export interface LayerPlan {
  name: string;
  /** [height, width, channels] */
  input: [number, number, number];
  layers: PlanLayer[];
  /** Index of the layer whose output is the model's output. */
  output: number;
  /** What the lowering had to do that a user should know (folded subgraphs, permuted rows...). */
  notes: string[];
}
