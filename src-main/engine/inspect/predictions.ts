// Top-k predictions from the model's output for one image.
export interface Prediction {
  index: number;
  /** The class name where the model has them, else 'class N'. */
  label: string;
  prob: number;
}

/** Probabilities from the output: as they are when the output layer is a softmax, else softmax of it. */
export function toProbabilities(output: Float32Array, isSoftmax: boolean): Float32Array {
  if (isSoftmax) return output;
  let max = -Infinity;
  for (const v of output) if (v > max) max = v;
  const out = new Float32Array(output.length);
  let sum = 0;
  for (let i = 0; i < output.length; i++) sum += out[i] = Math.exp(output[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export function classLabel(index: number, classNames?: readonly string[] | null): string {
  return classNames?.[index] ?? `class ${index}`;
}

/** The k most probable classes, most probable first (ties: lower index first). */
export function topK(probs: Float32Array, k: number, classNames?: readonly string[] | null): Prediction[] {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((index) => ({ index, label: classLabel(index, classNames), prob: probs[index] }));
}
