import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_BIN, runCli, runCliInProcess } from './run-cli';
import { configFromFlags } from '../../src-main/cli/commands/train';
import { makeNoiseFolder } from '../engine/train-augment-folder';


const convscope = runCli;

const inProcess = runCliInProcess;

const tmp = () => mkdtemp(path.join(tmpdir(), 'convscope-cli-train-'));
const losses = (runDir: string) =>
  readFileSync(path.join(runDir, 'batch.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as { step: number; loss: number });

describe('convscope train: bad input is one clear line and a non-zero exit', () => {
  const cases: [string, string[], RegExp][] = [
    ['no dataset', ['--model', 'lenet5'], /--dataset is required/],
    ['unknown model', ['--model', 'resnet', '--dataset', 'mnist'], /unknown model 'resnet'/],
    ['unknown flag', ['--model', 'lenet5', '--dataset', 'mnist', '--bogus'], /Unknown option '--bogus'/],
    ['bad epochs', ['--model', 'lenet5', '--dataset', 'mnist', '--epochs', '0'], /--epochs must be an integer >= 1, got '0'/],
    ['bad optimizer', ['--model', 'lenet5', '--dataset', 'mnist', '--optimizer', 'rmsprop'], /--optimizer must be one of sgd, adam; got 'rmsprop'/],
    ['bad loss', ['--model', 'lenet5', '--dataset', 'mnist', '--loss', 'mse'], /--loss must be one of logits, keras-clipped; got 'mse'/],
    ['bad model option', ['--model', 'lenet5', '--dataset', 'mnist', '--set', 'width=abc'], /bad value 'abc' for option 'width'/],
    ['bad backend', ['--model', 'lenet5', '--dataset', 'mnist', '--backend', 'quantum'], /quantum/],
    ['unknown dataset', ['--model', 'lenet5', '--dataset', 'imagenet', '--backend', 'cpu'], /unknown dataset 'imagenet'/],
    ['missing folder', ['--model', 'lenet5', '--dataset', 'folder:/nonexistent/images', '--backend', 'cpu'], /\/nonexistent\/images does not exist/],
    ['resume with settings', ['--resume', '/tmp/x', '--epochs', '3'], /takes only --from-previous, --backend, --threads, --data-parallel and --json, not --epochs/],
    ['from-previous without resume', ['--model', 'lenet5', '--dataset', 'mnist', '--from-previous'], /--from-previous applies to --resume RUN_DIR only/],
    ['from-previous of nothing', ['--resume', '/nonexistent/run', '--from-previous'], /no run folder at \/nonexistent\/run/],
    ['bad data-parallel ways', ['--model', 'lenet5', '--dataset', 'mnist', '--data-parallel', 'two'], /--data-parallel must be a whole number from 1 to 8, got 'two'/],
    ['data-parallel off wasm', ['--model', 'lenet5', '--dataset', 'mnist', '--backend', 'cpu', '--data-parallel', '2', '--limit', '64'], /data-parallel training runs on the wasm backend only \(this run uses cpu\)/],
    ['bad thread count', ['--model', 'lenet5', '--dataset', 'mnist', '--threads', '0'], /--threads must be a whole number from 1 to 8, got '0'/],
    ['resume of nothing', ['--resume', '/nonexistent/run'], /no run folder at \/nonexistent\/run/],
    ['zero learning rate', ['--model', 'lenet5', '--dataset', 'mnist', '--lr', '0', '--backend', 'cpu'], /learning rate must be a number > 0/],
    ['bad augmentation', ['--model', 'lenet5', '--dataset', 'mnist', '--augment', 'flip'], /--augment must be one of none, crop-mirror, paper; got 'flip'/],
    ['augmenting MNIST', ['--model', 'lenet5', '--dataset', 'mnist', '--augment', 'crop-mirror', '--backend', 'cpu'], /augmentation 'crop-mirror' needs a folder: dataset/],
    ['bad stored size', ['--model', 'lenet5', '--dataset', 'mnist', '--stored-size', 'big'], /--stored-size must be an integer >= 1, got 'big'/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await inProcess(['train', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('exits with 2 and one line from a real process too', async () => {
    const r = await convscope(['train', '--model', 'lenet5', '--dataset', 'mnist', '--momentum', '0.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('convscope train: --momentum applies to --optimizer sgd only\n');
  });

  it('refuses full AlexNet at batch 4096 on wasm with the estimate and the limit', async () => {
    const out = path.join(await tmp(), 'run');
    const r = await inProcess(['train', '--model', 'alexnet', '--dataset', 'mnist', '--batch', '4096', '--backend', 'wasm', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/alexnet at batch 4096 needs about \d+\.\d GiB .* more than the wasm backend can hold: 4\.0 GiB/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a model over the memory limit setting (CONVSCOPE_MODEL_MEMORY_LIMIT) with the estimate and the limit', async () => {
    const out = path.join(await tmp(), 'run');
    const r = await convscope(['train', '--model', 'alexnet', '--set', 'width=2', '--dataset', 'mnist', '--backend', 'cpu', '--out', out], { env: { CONVSCOPE_MODEL_MEMORY_LIMIT: '2GiB' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^convscope train: alexnet at batch 64 needs about 5\.4 GiB .* more than the cpu backend can hold: 2\.0 GiB, CONVSCOPE_MODEL_MEMORY_LIMIT=2GiB; use a smaller --batch or model\n$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('convscope train --augment on an image folder', () => {
  it('trains on random crops of images stored larger than the input', async () => {
    const parent = await tmp();
    process.env.XDG_CACHE_HOME = path.join(parent, 'cache');
    const folder = path.join(parent, 'images');
    await makeNoiseFolder(folder, 6);
    const out = path.join(parent, 'run');
    const r = await inProcess(['train', '--model', 'lenet5', '--set', 'input=16x16x3', '--set', 'width=0.5', '--dataset', `folder:${folder}`, '--augment', 'paper', '--batch', '4', '--backend', 'cpu', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'finished', runDir: out });
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'))).toMatchObject({ augment: 'paper', storedSize: null });
    // 16 x 16 crops of images stored at round(16 * 256 / 224) = 18
    expect(JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'))).toMatchObject({ storedSize: 18, trainExamples: 15 });
  });

  it('--no-previous-checkpoint keeps only the latest checkpoint (the default keeps the previous one too)', () => {
    expect(configFromFlags({ model: 'lenet5', dataset: 'mnist' }).config.keepPreviousCheckpoint).toBe(true);
    expect(configFromFlags({ model: 'lenet5', dataset: 'mnist', 'no-previous-checkpoint': true }).config.keepPreviousCheckpoint).toBe(false);
  });
  it('the help names the choices', async () => {
    const r = await inProcess(['train', '--help']);
    expect(r.stdout).toMatch(/--from-previous .*the checkpoint before the last/s);
    expect(r.stdout).toMatch(/--augment A .*none \(default\), crop-mirror .* paper/s);
  });
});

describe('convscope train on MNIST', () => {
  it('trains, shows progress on stderr and prints the result as JSON', async () => {
    const out = path.join(await tmp(), 'run');
    const r = await convscope(['train', '--model', 'lenet5', '--dataset', 'mnist', '--limit', '512', '--test-limit', '256', '--batch', '32', '--backend', 'wasm', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ backend: 'wasm', runDir: out, state: 'finished' });
    expect(result.epochs).toHaveLength(1);
    expect(Object.keys(result.epochs[0]).sort()).toEqual(['accuracy', 'imagesPerSecond', 'loss', 'seconds', 'testAccuracy', 'testLoss']);
    expect(result.epochs[0].testAccuracy).toBeGreaterThan(0.5);
    expect(r.stderr).toMatch(/epoch 1\/1 \[#+\] 16\/16 loss \d\.\d{4} \d+ images\/s ETA/);
    expect(r.stderr).toMatch(/epoch 1: loss .* test accuracy/);
    expect(losses(out)).toHaveLength(16);
    const dataset = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'));
    expect(dataset).toMatchObject({ id: 'mnist', trainExamples: 512, heldOutExamples: 256, heldOut: 'test' });
    const preprocess = JSON.parse(readFileSync(path.join(out, 'preprocess.json'), 'utf8'));
    expect(preprocess).toMatchObject({ kind: 'scale', shape: [28, 28, 1] });
  });

  it('resumes a run killed with SIGKILL and repeats the uninterrupted run’s losses', async () => {
    const parent = await tmp();
    // 3 epochs of 30 steps: the kill lands after step 7 with ~80 steps to spare, however fast the engine is.
    const args = (out: string) => ['train', '--model', 'lenet5', '--set', 'dropout=0.2', '--dataset', 'mnist', '--limit', '480', '--test-limit', '64', '--batch', '16', '--epochs', '3', '--backend', 'wasm', '--seed', '5', '--checkpoint-every', '3', '--out', out];
    const whole = path.join(parent, 'whole');
    const killed = path.join(parent, 'killed');
    const uninterrupted = convscope(args(whole));

    const child = spawn(process.execPath, [CLI_BIN, ...args(killed)], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const file = path.join(killed, 'batch.jsonl');
    while (!(existsSync(file) && losses(killed).length >= 7)) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const seenBeforeKill = losses(killed).length;
    expect(seenBeforeKill).toBeLessThan(90);

    const resumed = await convscope(['train', '--resume', killed, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await uninterrupted).code).toBe(0);
    const a = losses(whole);
    const b = losses(killed);
    expect(b.map((x) => x.step)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    // wasm runs one thread in Node and has repeated bit for bit here; the stated tolerance is 1e-6 relative
    b.forEach((x, i) => expect(Math.abs(x.loss - a[i].loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(a[i].loss))));
    const command = JSON.parse(readFileSync(path.join(killed, 'command.json'), 'utf8'));
    expect(command.resumes).toHaveLength(1);
    expect(command.resumes[0].argv.slice(-3)).toEqual(['--resume', killed, '--json']);
    expect(command.resumes[0].fromStep % 3).toBe(0);
    expect(command.resumes[0].fromStep).toBeGreaterThanOrEqual(6);
  });
});
