import { describe, it, expect } from 'vitest';
import { runCli as convscope } from './run-cli';


describe('convscope summary', () => {
  it('prints a Keras-like table with the SEED_FACTS total for the paper AlexNet', async () => {
    const r = await convscope(['summary', '--model', 'alexnet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/conv2 \(GroupedConv2D\)\s+\(None, 27, 27, 256\)\s+307,456/);
    expect(r.stdout).toMatch(/Total params: 60,965,224/);
  });

  it('gives JSON with overrides applied', async () => {
    const r = await convscope(['summary', '--model', 'alexnet', '--set', 'grouped=false', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.totalParams).toBe(62_378_344);
    expect(out.trainableParams).toBe(62_378_344);
    const conv2 = out.layers.find((l: { name: string }) => l.name === 'conv2');
    expect(conv2).toEqual({ name: 'conv2', type: 'Conv2D', outputShape: [null, 27, 27, 256], params: 614_656 });
  });

  it('gives the blog AlexNet trainable and total counts', async () => {
    const r = await convscope(['summary', '--model', 'alexnet-blog', '--json']);
    const out = JSON.parse(r.stdout);
    expect([out.totalParams, out.trainableParams]).toEqual([58_327_818, 58_325_066]);
  });

  it.each([
    [['--model', 'vgg16'], /unknown model 'vgg16'.*lenet5, alexnet, alexnet-blog/],
    [['--model', 'lenet5', '--set', 'colour=red'], /unknown option 'colour' for lenet5/],
    [['--model', 'alexnet', '--set', 'input=31x31x3'], /pool2.*cannot take input/],
    [['--model', 'lenet5', '--bogus'], /Unknown option '--bogus'/],
    [['--model', 'alexnet', '--set', 'width=16'], /alexnet \(input 227x227x3, [\d,]+ parameters\) needs about .* GiB .* more than the limit of 2\.0 GiB \(CONVSCOPE_MODEL_MEMORY_LIMIT=2GiB\)/],
    [['--model', 'alexnet', '--set', 'input=4096x4096x1'], /alexnet \(input 4096x4096x1, .*\) needs about .* more than the limit of 2\.0 GiB/],
    [[], /--model is required/],
  ])('refuses %j in one line with a non-zero exit', async (args, message) => {
    const r = await convscope(['summary', ...args], { env: { CONVSCOPE_MODEL_MEMORY_LIMIT: '2GiB' } });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
