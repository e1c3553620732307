// convscope export: bad input is one clear line and exit code 2; a good call writes the package.
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliInProcess } from './run-cli';

const tmp = () => mkdtemp(path.join(tmpdir(), 'convscope-cli-export-'));

describe('convscope export', () => {
  const cases: [string, string[], RegExp][] = [
    ['no target', ['--model', 'lenet5', '--dataset', 'mnist', '--out', '/tmp/x'], /--to must be pytorch$/m],
    ['unknown target', ['--model', 'lenet5', '--dataset', 'mnist', '--to', 'jax', '--out', '/tmp/x'], /--to must be pytorch, got 'jax'/],
    ['no out', ['--model', 'lenet5', '--dataset', 'mnist', '--to', 'pytorch'], /--out DIR is required/],
    ['no model', ['--dataset', 'mnist', '--to', 'pytorch', '--out', '/tmp/x'], /--model is required/],
    ['a train-only flag', ['--model', 'lenet5', '--dataset', 'mnist', '--to', 'pytorch', '--out', '/tmp/x', '--resume', 'r'], /Unknown option '--resume'/],
    ['augmenting MNIST', ['--model', 'lenet5', '--dataset', 'mnist', '--augment', 'paper', '--to', 'pytorch', '--out', '/tmp/x'], /augmentation 'paper' needs a folder: dataset/],
    ['bad model option', ['--model', 'alexnet', '--set', 'width=0', '--dataset', 'mnist', '--to', 'pytorch', '--out', '/tmp/x'], /bad value '0' for option 'width'/],
  ];
  for (const [title, args, message] of cases) {
    it(`refuses: ${title}`, async () => {
      const r = await runCliInProcess(['export', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }

  it('refuses a folder that holds something else, and writes the package into a new one', async () => {
    const busy = await tmp();
    await writeFile(path.join(busy, 'notes.txt'), 'mine');
    const refused = await runCliInProcess(['export', '--model', 'lenet5', '--dataset', 'mnist', '--to', 'pytorch', '--out', busy]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty and holds no earlier export');

    const out = path.join(await tmp(), 'pkg');
    const r = await runCliInProcess(['export', '--model', 'alexnet', '--set', 'input=67x67x3', '--set', 'width=0.25', '--dataset', 'mnist', '--optimizer', 'sgd', '--schedule', 'plateau', '--batch', '32', '--to', 'pytorch', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    for (const file of ['model.py', 'data.py', 'train.py', 'runfolder.py', 'export_onnx.py', 'experiment.json', 'README.md']) expect(existsSync(path.join(out, file)), file).toBe(true);
    const experiment = JSON.parse(readFileSync(path.join(out, 'experiment.json'), 'utf8'));
    expect(experiment.config).toMatchObject({ batchSize: 32, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0.0005 }, schedule: { kind: 'plateau', factor: 10, maxDrops: 3 } });
    expect(experiment.weights.slice(0, 2)).toEqual(['conv1/kernel', 'conv1/bias']);
    const model = readFileSync(path.join(out, 'model.py'), 'utf8');
    // Generated from the spec: the grouped convs and the LRN layers are there with their parameters.
    expect(model).toContain('self.conv2 = Conv(24, 64, kernel=5, stride=1, pad=(2, 2, 2, 2), groups=2, activation="relu")');
    expect(model).toContain('self.lrn1 = LocalResponseNorm(depth_radius=2, bias=2, alpha=0.0001, beta=0.75)');
    // Exporting again into its own folder is allowed.
    expect((await runCliInProcess(['export', '--model', 'lenet5', '--dataset', 'mnist', '--to', 'pytorch', '--out', out])).code).toBe(0);
  });
});
