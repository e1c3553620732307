// A small generated image folder for augmentation tests: three classes (a colour each) of noisy RGB PNGs,
// so every pixel of an image differs and a patch shows where it was cropped from.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createRandom } from '../../src-main/engine/train/rng';

const COLOURS: [number, number, number][] = [
  [200, 60, 50],
  [50, 180, 70],
  [60, 70, 200],
];

/** `perClass` images per class under root/c0, c1, c2 (sizes vary; shorter side >= 20). */
export async function makeNoiseFolder(root: string, perClass: number): Promise<void> {
  const rng = createRandom(99);
  for (const [label, colour] of COLOURS.entries()) {
    await mkdir(path.join(root, `c${label}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const width = 20 + ((i * 3) % 9);
      const height = 20 + ((i * 5) % 7);
      const data = Buffer.alloc(width * height * 3);
      // a per-image brightness, so the training set's colours have a spread for PCA
      const bright = rng.nextInt(61) - 30;
      for (let p = 0; p < data.length; p++) data[p] = Math.max(0, Math.min(255, colour[p % 3] + bright + rng.nextInt(81) - 40));
      await sharp(data, { raw: { width, height, channels: 3 } })
        .png()
        .toFile(path.join(root, `c${label}`, `img-${String(i).padStart(2, '0')}.png`));
    }
  }
}
