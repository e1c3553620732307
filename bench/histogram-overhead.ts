// A/B: LeNet-5 training throughput (images / wall seconds of the whole run, one epoch) on MNIST with and
// without histograms (statistics every 100 steps, the default), alternating arms so drift in machine load
// hits both; and, inside the 'on' runs, the share of the wall time spent binning and writing histograms
// (Trainer's recordHistograms, timed by wrapping it), which machine load disturbs far less.
//   npx tsx bench/histogram-overhead.ts [trials per arm] [training images per trial]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, startRun } from '../src-main/engine/train';
import { Trainer } from '../src-main/engine/train/trainer';

// Time spent in the histogram recording of the current trial.
let recordingMs = 0;
const proto = Trainer.prototype as unknown as { recordHistograms: (...args: unknown[]) => Promise<void> };
const original = proto.recordHistograms;
proto.recordHistograms = async function (this: unknown, ...args: unknown[]) {
  const t0 = performance.now();
  try {
    return await original.apply(this, args);
  } finally {
    recordingMs += performance.now() - t0;
  }
};

const trials = Number(process.argv[2] ?? 3);
const limit = Number(process.argv[3] ?? 25_600);

async function trial(histograms: boolean): Promise<{ rate: number; share: number; stepRate: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'convscope-hist-ab-'));
  try {
    const config = { ...defaultConfig('lenet5', 'mnist'), limit, testLimit: 512, snapshotEvery: 0 };
    const trainer = await startRun(config, { runDir: path.join(dir, 'run'), histograms: histograms ? {} : false });
    // Wall time of the whole run: a batch record's seconds end before the statistics are taken.
    recordingMs = 0;
    // The steps alone (a batch record's seconds end before the statistics): what no recording touches.
    let stepSeconds = 0;
    trainer.on((e) => {
      if (e.type === 'batch') stepSeconds += e.record.seconds;
    });
    const started = performance.now();
    await trainer.run();
    const seconds = (performance.now() - started) / 1000;
    trainer.dispose();
    return { rate: limit / seconds, share: recordingMs / 1000 / seconds, stepRate: limit / stepSeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
const shares: number[] = [];
for (let i = 0; i < trials; i++) {
  for (const arm of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    const r = await trial(arm === 'on');
    rates[arm].push(r.rate);
    if (arm === 'on') shares.push(r.share);
    console.log(`trial ${i + 1} histograms ${arm}: ${r.rate.toFixed(0)} images/s (steps alone ${r.stepRate.toFixed(0)})${arm === 'on' ? `, ${(100 * r.share).toFixed(2)}% of the wall time recording histograms` : ''}`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [off, on] = [median(rates.off), median(rates.on)];
console.log(`median off ${off.toFixed(0)}, on ${on.toFixed(0)} images/s: ${((100 * (off - on)) / off).toFixed(2)}% slower; median share of the wall time recording histograms ${(100 * median(shares)).toFixed(2)}%`);
