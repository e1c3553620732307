// An imported model's preprocessing (model-info.json: (pixel * scale - mean[c]) / std[c]) as the data
// module's Preprocessor ((pixel - mean[c]) * scale), which is what inspection applies to images. Exact
// when the std is the same for every channel; what cannot be expressed is named in the notes.
import type { Preprocessor } from '../data/preprocess';
import type { Preprocessing } from '../import';

export function preprocessorOfImport(p: Preprocessing, input: readonly [number, number, number]): { preprocessor: Preprocessor; notes: string[] } {
  const notes: string[] = [];
  const channels = input[2];
  if (p.mean.length !== channels || p.std.length !== channels) {
    throw new Error(`imported preprocessing has ${p.mean.length} means and ${p.std.length} stds for a ${channels}-channel input`);
  }
  const std = p.std.reduce((a, b) => a + b, 0) / channels;
  if (p.std.some((s) => Math.abs(s - std) > 1e-6 * std)) {
    notes.push(`inspection divides every channel by ${std.toPrecision(4)}, the mean of the model's per-channel std (${p.std.join(', ')})`);
  }
  if (p.channelOrder === 'BGR') notes.push('the model takes BGR channels, inspection feeds RGB');
  const side = Math.max(input[0], input[1]);
  if (p.resizeShorterSide !== null && p.resizeShorterSide !== side) {
    notes.push(`inspection scales an image's shorter side to ${side} before the centre crop (the model was made for ${p.resizeShorterSide})`);
  }
  const shape: [number, number, number] = [input[0], input[1], input[2]];
  const scale = p.scale / std;
  const preprocessor: Preprocessor = p.mean.every((m) => m === 0)
    ? { version: 1, kind: scale === 1 ? 'raw' : 'scale', shape, mean: [], scale, fittedOn: null }
    : { version: 1, kind: 'mean-pixel', shape, mean: p.mean.map((m) => m / p.scale), scale, fittedOn: null };
  return { preprocessor, notes };
}
