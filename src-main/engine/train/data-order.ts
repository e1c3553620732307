// The order in which an epoch visits the training examples: a Fisher-Yates shuffle driven by a seeded
// PRNG whose state is plain data. A checkpoint stores the state at the start of the epoch, so a resumed
// run rebuilds the same permutation and continues at the same position.
import type { SeededRandom } from './rng';

export function epochOrder(size: number, rng: SeededRandom): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
