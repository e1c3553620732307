// A folder dataset made here with sharp (three colour classes, mixed formats, sizes and colour modes, one
// corrupt file) trains a scaled AlexNet for an epoch; the corrupt file is reported by name.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { defaultConfig, readRun, startRun } from '../../src-main/engine/train';

const COLOURS: Record<string, [number, number, number]> = { red: [220, 30, 40], green: [30, 200, 60], blue: [40, 50, 210] };
const SHAPES: [number, number][] = [
  [40, 52],
  [90, 70],
  [67, 67],
  [120, 80],
  [75, 100],
  [64, 48],
  [100, 100],
  [81, 90],
];
const FORMATS = ['png', 'jpeg', 'webp', 'gif'] as const;

async function makeImage(file: string, rgb: [number, number, number], [width, height]: [number, number], i: number): Promise<void> {
  // colour plus a seeded ramp, so images of a class differ
  const data = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const ramp = ((p % width) * 40) / width + i * 3;
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, rgb[c] + ramp - 20));
  }
  let image = sharp(data, { raw: { width, height, channels: 3 } });
  if (i === 5) image = image.ensureAlpha(0.8);
  await image.toFormat(FORMATS[i % FORMATS.length]).toFile(file);
}

let root: string;

beforeAll(async () => {
  const parent = await mkdtemp(path.join(tmpdir(), 'convscope-folder-'));
  process.env.XDG_CACHE_HOME = path.join(parent, 'cache');
  root = path.join(parent, 'images');
  for (const [name, rgb] of Object.entries(COLOURS)) {
    await mkdir(path.join(root, name), { recursive: true });
    for (let i = 0; i < SHAPES.length; i++) {
      await makeImage(path.join(root, name, `${name}-${i}.${FORMATS[i % FORMATS.length] === 'jpeg' ? 'jpg' : FORMATS[i % FORMATS.length]}`), rgb, SHAPES[i], i);
    }
  }
  await writeFile(path.join(root, 'green', 'broken.jpg'), Buffer.from('this is not a JPEG, just text with a .jpg name'));
});

describe('training on an image folder', () => {
  it('trains a scaled AlexNet for an epoch and names the corrupt file', async () => {
    const runDir = path.join(path.dirname(root), 'run');
    const config = {
      ...defaultConfig('alexnet', `folder:${root}`),
      model: { id: 'alexnet', overrides: { input: '67x67x3', width: 0.25 } },
      backend: 'wasm',
      batchSize: 8,
      probeSize: 8,
      statsEvery: 2,
      snapshotEvery: 2,
    };
    const trainer = await startRun(config, { runDir });
    expect(trainer.warnings.some((w) => w.includes(path.join(root, 'green', 'broken.jpg')))).toBe(true);
    const result = await trainer.run();
    trainer.dispose();

    expect(result.state).toBe('finished');
    const [epoch] = result.epochs;
    // 24 images, a stratified 10% (one per class) held out
    expect(epoch.examples).toBe(21);
    expect(Number.isFinite(epoch.loss)).toBe(true);
    expect(epoch.testAccuracy).not.toBeNull();
    expect(epoch.top5Accuracy).toBeUndefined(); // 3 classes: no top-5

    const dataset = JSON.parse(await readFile(path.join(runDir, 'dataset.json'), 'utf8'));
    expect(dataset).toMatchObject({ classNames: ['blue', 'green', 'red'], trainExamples: 21, heldOutExamples: 3, heldOut: 'validation' });
    const spec = JSON.parse(await readFile(path.join(runDir, 'spec.json'), 'utf8'));
    expect(spec.classes).toBe(3);
    const saved = JSON.parse(await readFile(path.join(runDir, 'model', 'model.json'), 'utf8'));
    expect(saved.userDefinedMetadata.classNames).toEqual(['blue', 'green', 'red']);
    expect(saved.userDefinedMetadata.preprocess.kind).toBe('scale');

    const run = await readRun(runDir);
    expect(run.batches).toHaveLength(3);
    // AlexNet's five convs (conv2/4/5 grouped) are all snapshotted
    const index = JSON.parse(await readFile(path.join(runDir, 'kernels', 'index.json'), 'utf8'));
    expect(index.layers.map((l: { layer: string }) => l.layer)).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5']);
    expect(index.layers[1].shape).toEqual([5, 5, 12, 64]);
    const fc6 = run.layerStats.at(-1)!.layers.find((l) => l.layer === 'fc6')!;
    expect(fc6.deadFraction).toHaveLength(1024);
  });
});
