// SGD with momentum and the paper's weight decay, and Adam: own implementations whose whole state
// (slot tensors and step count) is saved and restored bit for bit.
import { tf } from '../tf';

export interface SgdConfig {
  kind: 'sgd';
  lr: number;
  momentum: number;
  /** L2 decay added to the gradient as in the AlexNet paper: v = m*v - wd*lr*w - lr*g; w += v. */
  weightDecay: number;
}

export interface AdamConfig {
  kind: 'adam';
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 term wd*w added to the gradient (0: plain Adam). */
  weightDecay: number;
}

export type OptimizerConfig = SgdConfig | AdamConfig;

/** A named float32 array of some shape: how optimizer slots and weights travel to and from checkpoints. */
export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface OptimizerState {
  /** Updates applied so far (Adam's bias correction needs it). */
  iterations: number;
  slots: NamedArray[];
}

/** A trainable variable under a name that is stable across processes (tfjs may suffix variable names). */
export interface Param {
  name: string;
  variable: tf.Variable;
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** One update of `params` from `grads` (same order) at learning rate `lr`. Disposes nothing it was given. */
  apply(params: readonly Param[], grads: readonly tf.Tensor[], lr: number): void;
  getState(): Promise<OptimizerState>;
  setState(params: readonly Param[], state: OptimizerState): void;
  dispose(): void;
}

export function createOptimizer(config: OptimizerConfig): Optimizer {
  return config.kind === 'sgd' ? new Sgd(config) : new Adam(config);
}

/** Slot tensors per variable, created as zeros on first use and keyed `${variable}/${slot}`. */
abstract class SlotOptimizer implements Optimizer {
  protected iterations = 0;
  private readonly slots = new Map<string, tf.Variable>();
  abstract readonly config: OptimizerConfig;
  protected abstract readonly slotNames: readonly string[];

  abstract apply(params: readonly Param[], grads: readonly tf.Tensor[], lr: number): void;

  protected slot(p: Param, name: string): tf.Variable {
    const key = `${p.name}/${name}`;
    let s = this.slots.get(key);
    if (!s) {
      s = tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false));
      this.slots.set(key, s);
    }
    return s;
  }

  async getState(): Promise<OptimizerState> {
    const slots: NamedArray[] = [];
    for (const [name, v] of this.slots) slots.push({ name, shape: [...v.shape], values: (await v.data()) as Float32Array });
    return { iterations: this.iterations, slots };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    const byName = new Map(state.slots.map((s) => [s.name, s]));
    for (const p of params) {
      for (const slotName of this.slotNames) {
        const saved = byName.get(`${p.name}/${slotName}`);
        if (!saved) continue;
        if (saved.shape.join('x') !== p.variable.shape.join('x')) {
          throw new Error(`optimizer slot ${saved.name} has shape ${saved.shape.join('x')}, the variable ${p.variable.shape.join('x')}`);
        }
        const s = this.slot(p, slotName);
        tf.tidy(() => s.assign(tf.tensor(saved.values, saved.shape, 'float32')));
      }
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}

class Sgd extends SlotOptimizer {
  protected readonly slotNames: readonly string[];
  constructor(readonly config: SgdConfig) {
    super();
    this.slotNames = config.momentum > 0 ? ['velocity'] : [];
  }

  apply(params: readonly Param[], grads: readonly tf.Tensor[], lr: number): void {
    const { momentum, weightDecay } = this.config;
    tf.tidy(() => {
      const lrT = tf.scalar(lr);
      const decayT = tf.scalar(weightDecay * lr);
      params.forEach((p, i) => {
        const w = p.variable;
        // step = -wd*lr*w - lr*g
        let step = tf.neg(tf.mul(lrT, grads[i]));
        if (weightDecay > 0) step = tf.sub(step, tf.mul(decayT, w));
        if (momentum > 0) {
          const v = this.slot(p, 'velocity');
          const next = tf.add(tf.mul(tf.scalar(momentum), v), step);
          v.assign(next);
          step = next;
        }
        w.assign(tf.add(w, step));
      });
    });
    this.iterations++;
  }
}

class Adam extends SlotOptimizer {
  protected readonly slotNames = ['m', 'v'] as const;
  constructor(readonly config: AdamConfig) {
    super();
  }

  apply(params: readonly Param[], grads: readonly tf.Tensor[], lr: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.config;
    const t = this.iterations + 1;
    // Bias-corrected step size, computed in float64 once per update (as tf.train.adam does).
    const stepSize = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    tf.tidy(() => {
      const b1 = tf.scalar(beta1);
      const b2 = tf.scalar(beta2);
      const oneMinusB1 = tf.scalar(1 - beta1);
      const oneMinusB2 = tf.scalar(1 - beta2);
      const stepT = tf.scalar(stepSize);
      const epsT = tf.scalar(epsilon);
      const decayT = tf.scalar(weightDecay);
      params.forEach((p, i) => {
        const w = p.variable;
        const g = weightDecay > 0 ? tf.add(grads[i], tf.mul(decayT, w)) : grads[i];
        const m = this.slot(p, 'm');
        const v = this.slot(p, 'v');
        const mNext = tf.add(tf.mul(b1, m), tf.mul(oneMinusB1, g));
        const vNext = tf.add(tf.mul(b2, v), tf.mul(oneMinusB2, tf.square(g)));
        m.assign(mNext);
        v.assign(vNext);
        w.assign(tf.sub(w, tf.div(tf.mul(stepT, mNext), tf.add(tf.sqrt(vNext), epsT))));
      });
    });
    this.iterations = t;
  }
}
