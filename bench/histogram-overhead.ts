// A/B: LeNet-5 training throughput (images / wall seconds of the whole run, one epoch) on MNIST with and without histograms (statistics every 100 steps,
// the default), alternating arms so drift in machine load hits both. Prints images/s per trial and the
// median overhead.   npx tsx bench/histogram-overhead.ts [trials per arm] [training images per trial]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, startRun } from '../src-main/engine/train';

const trials = Number(process.argv[2] ?? 3);
const limit = Number(process.argv[3] ?? 25_600);

async function trial(histograms: boolean): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'convscope-hist-ab-'));
  try {
    const config = { ...defaultConfig('lenet5', 'mnist'), limit, testLimit: 512, snapshotEvery: 0 };
    const trainer = await startRun(config, { runDir: path.join(dir, 'run'), histograms: histograms ? {} : false });
    // Wall time of the whole run: a batch record's seconds end before the statistics are taken.
    const started = performance.now();
    await trainer.run();
    const seconds = (performance.now() - started) / 1000;
    trainer.dispose();
    return limit / seconds;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
for (let i = 0; i < trials; i++) {
  for (const arm of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const r = await trial(arm === 'on');
    rates[arm].push(r);
    console.log(`trial ${i + 1} histograms ${arm}: ${r.toFixed(0)} images/s`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [off, on] = [median(rates.off), median(rates.on)];
console.log(`median off ${off.toFixed(0)}, on ${on.toFixed(0)} images/s: overhead ${((100 * (off - on)) / off).toFixed(2)}%`);
