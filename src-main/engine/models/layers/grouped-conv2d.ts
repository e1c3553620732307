// A 2-D convolution whose channels are split into groups (AlexNet's two-GPU layers): one layer, one kernel
// of shape [k, k, inChannels / groups, filters]; group g's filters see only group g's input channels.
import { tf } from '../../tf';
import { convOutputSize, type Activation, type Padding } from '../spec';
import { applyActivation } from './activation';
import { serializeInitializer, toInitializer, type Initializer, type SerializedInitializer } from './initializer-config';

import type { LayerArgs, Shape } from './layer-types';

export interface GroupedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  /** 'valid', 'same', or zeros added on every side. */
  padding?: Padding;
  groups: number;
  activation?: Activation;
  useBias?: boolean;
  kernelInitializer?: Initializer | SerializedInitializer;
  biasInitializer?: Initializer | SerializedInitializer;
}

export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly groups: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'valid';
    this.groups = args.groups;
    this.activation = args.activation ?? 'linear';
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = toInitializer(args.kernelInitializer ?? tf.initializers.glorotUniform({}));
    this.biasInitializer = toInitializer(args.biasInitializer ?? tf.initializers.zeros());
    if (!(Number.isInteger(this.groups) && this.groups >= 1)) throw new Error(`${this.name}: groups must be a whole number >= 1`);
    if (this.filters % this.groups !== 0) {
      throw new Error(`${this.name}: ${this.filters} filters cannot be split into ${this.groups} groups`);
    }
  }

  build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[3];
    if (shape.length !== 4 || channels == null) throw new Error(`${this.name}: expects [batch, height, width, channels] input`);
    if (channels % this.groups !== 0) {
      throw new Error(`${this.name}: ${channels} input channels cannot be split into ${this.groups} groups`);
    }
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels / this.groups, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    this.built = true;
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [batch, h, w] = singleShape(inputShape);
    return [batch, outSize(h, this.kernelSize, this.strides, this.padding), outSize(w, this.kernelSize, this.strides, this.padding), this.filters];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const kernel = this.kernel!.read() as tf.Tensor4D;
      let y: tf.Tensor4D;
      if (this.groups === 1) {
        y = tf.conv2d(x, kernel, this.strides, this.padding);
      } else {
        const xs = tf.split(x, this.groups, 3) as tf.Tensor4D[];
        const ks = tf.split(kernel, this.groups, 3) as tf.Tensor4D[];
        y = tf.concat(xs.map((xg, g) => tf.conv2d(xg, ks[g], this.strides, this.padding)), 3);
      }
      if (this.bias) y = tf.add(y, this.bias.read());
      return applyActivation(y, this.activation);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      groups: this.groups,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDict,
      biasInitializer: serializeInitializer(this.biasInitializer) as unknown as tf.serialization.ConfigDict,
    };
  }
}
tf.serialization.registerClass(GroupedConv2D);

function singleShape(inputShape: Shape | Shape[]): Shape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
}

function outSize(size: number | null, kernel: number, stride: number, padding: Padding): number | null {
  return size == null ? null : convOutputSize(size, kernel, stride, padding);
}
