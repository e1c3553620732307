// What a report says about how our setup differs from the published one, and where our numbers do.
import type { Recipe } from './recipes';
import type { ArmRun } from './runner';

/** Test accuracy within this many points of the published figure counts as reproduced. */
export const ACCURACY_TOLERANCE = 0.005;

const NOTEBOOK_SETUP =
  'Setup as in the Keras notebooks: unscaled 0-255 pixels, SGD lr 0.01 without momentum, batch 128, glorot-uniform weights and zero biases (Keras’ defaults), and standalone Keras 2.2’s categorical cross-entropy, which clips the softmax probabilities to [1e-7, 1 - 1e-7] so that an example the net gets hopelessly wrong adds 16.12 to the loss and nothing to the gradient (`--loss keras-clipped`; with the exact cross-entropy a ReLU net on 0-255 pixels can die in its first steps, as version 1 of this recipe showed). The loss shown is the mean over the epoch’s batches. What cannot be matched: the notebooks’ random seeds, their example order and Keras/TensorFlow’s float summation order, so single-seed curves differ from theirs by seed noise; the test set is evaluated after every epoch here (training never sees it).';

export function experimentNotes(recipe: Recipe, runs: ArmRun[]): string[] {
  const notes: string[] = [];
  if (recipe.name !== 'alexnet-ablations' && recipe.name !== 'dead-relu') notes.push(`- ${NOTEBOOK_SETUP}`);
  if (recipe.name === 'activation') {
    notes.push('- The paper’s “six times faster” is a four-layer CNN on CIFAR-10 reaching 25% training error; the ratio above is ours, for LeNet-5 on MNIST, and is not a check of the paper’s figure.');
  }
  if (recipe.name === 'alexnet-ablations') {
    notes.push('- The paper’s gains (LRN: 1.4/1.2 points top-1/top-5; overlapping pooling: 0.4/0.3) were measured on ImageNet with the full network over 90 epochs. At this scale (a small AlexNet, a few thousand Fashion-MNIST images upscaled) a difference smaller than the spread across seeds is “inconclusive at this scale”, which is an honest result.');
  }
  for (const r of runs) {
    const last = r.layerStats.at(-1);
    const dead = last?.layers.filter((l) => l.channels !== undefined && l.deadChannels === l.channels) ?? [];
    if (dead.length) {
      notes.push(
        `- ${r.arm.label}, seed ${r.seed}: every ReLU channel of ${dead.map((l) => l.layer).join(', ')} is dead on the probe set at step ${last!.step}, so the network's output no longer depends on its input (the dying ReLU the blog describes: large steps on unscaled pixels). The same network and settings in PyTorch die too: \`bench/pytorch_relu_raw.py\`.`,
      );
    }
  }
  const diverged = runs.filter((r) => r.diverged);
  for (const r of diverged) {
    notes.push(`- ${r.arm.label}, seed ${r.seed}: diverged (loss ${r.diverged!.loss} at step ${r.diverged!.step}); reported as diverged, not as dead units.`);
  }
  for (const r of runs.filter((x) => x.stalled)) {
    const clipped = r.arm.config.loss === 'keras-clipped';
    notes.push(
      `- ${r.arm.label}, seed ${r.seed}: stalled from epoch ${r.stalled!.epoch} (train loss ${r.stalled!.loss.toFixed(4)} in every later epoch, train accuracy ${r.stalled!.accuracy.toFixed(4)}), so it is left out of the means and the comparison with the published numbers.` +
        (clipped
          ? ` Its softmax saturated on every example: each true-class probability is clipped (below 1e-7 or above 1 - 1e-7), and Keras 2.2’s loss then has exactly zero gradient, so nothing can move the weights again. The notebooks met the same trap: their dropout run’s first epoch averaged 14.41, 16.12 being one clipped example’s loss, and escaped it: with dropout the forward pass changes at every step, so examples can fall back into the unclipped range, while without dropout (and with plain SGD) the weights can never change again.`
          : ''),
    );
  }
  const shortRunNoted = new Set<string>();
  for (const p of recipe.published) {
    const vals = runs.filter((r) => r.arm.id === p.arm && !r.diverged && !r.stalled);
    if (!vals.length) continue;
    const epochsNeeded = recipe.arms({ scale: 1 }).find((a) => a.id === p.arm)?.config.epochs;
    const ran = Math.min(...vals.map((r) => r.epochs.length));
    if (epochsNeeded !== undefined && ran < epochsNeeded) {
      if (shortRunNoted.has(p.arm)) continue;
      shortRunNoted.add(p.arm);
      notes.push(`- ${p.arm}: ${ran} epochs here against the notebook’s ${epochsNeeded}: the published numbers are not comparable at this length.`);
      continue;
    }
    const ours = vals.map((r) => (p.metric === 'testAccuracy' ? r.epochs.at(-1)?.testAccuracy : r.epochs.at(-1)?.loss)).filter((v): v is number => typeof v === 'number');
    if (!ours.length) continue;
    const mean = ours.reduce((a, b) => a + b, 0) / ours.length;
    if (p.metric === 'testAccuracy') {
      const diff = mean - p.value;
      notes.push(
        Math.abs(diff) <= ACCURACY_TOLERANCE
          ? `- ${p.arm}: test accuracy ${mean.toFixed(4)} reproduces the published ${p.value} within ${ACCURACY_TOLERANCE * 100} points (${(diff * 100).toFixed(2)}).`
          : `- ${p.arm}: test accuracy ${mean.toFixed(4)} differs from the published ${p.value} by ${(diff * 100).toFixed(2)} points, more than ${ACCURACY_TOLERANCE * 100}.`,
      );
    } else {
      notes.push(`- ${p.arm}: final train loss ${mean.toFixed(4)} against the published ${p.value}: a single run’s last-epoch loss moves with the seed; compare the curves’ ordering rather than this figure.`);
    }
  }
  return notes;
}
