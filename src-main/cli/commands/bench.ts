// convscope bench: throughput and latency of LeNet-5 and AlexNet on every backend that loads, beside
// PyTorch on the same machine; writes bench/results.json and the tables of docs/PERFORMANCE.md.
import path from 'node:path';
import { intFlag, numberFlag, parseFlags, THREADS_HELP, threadsFlag } from '../args';
import { UsageError } from '../errors';
import { ALL_BACKENDS, runBench, runSoakChild } from '../../../bench/orchestrate';
import { MEASURES } from '../../../bench/measures';
import { readResults, updateDoc, writeResults } from '../../../bench/report';
import { packageRoot } from '../../engine/paths';


export const HELP = `usage: convscope bench [--backends LIST] [--seconds N] [--rounds N] [--cap N] [--measures LIST] [--threads N] [--no-peer]
       convscope bench --soak [STEPS] [--backends ONE] [--threads N]

Measures, each in a process of its own after warm-up: LeNet-5 training (batch 128, SGD) and
inference (batch 1 latency, batch 256 throughput), a training step's op-by-op profile, the full
AlexNet's single-image inspection and its training at batch 32; PyTorch's LeNet-5 and AlexNet in the
same run, each at 1 thread and at one per core (ratios against the faster).
Parts only: --backends wasm --measures lenet-step,lenet-train (LeNet-5 against PyTorch, ~1 minute),
--backends wasm --measures alexnet-train,alexnet-inspect --rounds 1 (AlexNet against PyTorch).
  --backends LIST   comma-separated, in order (default ${ALL_BACKENDS.join(',')}); unavailable ones are listed with the reason
  --seconds N       timed seconds per measure (default 5)
  --rounds N        LeNet-5 measure rounds, each after a PyTorch reading; the best of each is kept (default 2)
  --cap N           seconds after which any measure counts as too slow (default: per measure, 60-180);
                    LeNet-5 training below 100 images/s is too slow too, and skips the backend's other training measures
  --measures LIST   only these (${Object.keys(MEASURES).join(', ')})
  --threads N       ConvScope's ${THREADS_HELP}
  --no-peer         skip PyTorch (/usr/bin/python3 with torch)
  --soak [STEPS]    instead: STEPS LeNet-5 steps (default 10000) at batch 32, tensor count and memory sampled
  --out FILE        results JSON (default bench/results.json); --doc FILE (default docs/PERFORMANCE.md)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      backends: { type: 'string' },
      seconds: { type: 'string' },
      cap: { type: 'string' },
      rounds: { type: 'string' },
      measures: { type: 'string' },
      'no-peer': { type: 'boolean' },
      soak: { type: 'boolean' },
      out: { type: 'string' },
      doc: { type: 'string' },
      threads: { type: 'string' },
    },
    true,
  );
  const backends = values.backends ? values.backends.split(',').map((b) => b.trim()).filter(Boolean) : ALL_BACKENDS;
  const unknown = backends.filter((b) => !ALL_BACKENDS.includes(b));
  if (unknown.length > 0) throw new UsageError(`--backends: unknown backend ${unknown.join(', ')} (known: ${ALL_BACKENDS.join(', ')})`);
  const measures = values.measures?.split(',').map((m) => m.trim()).filter(Boolean);
  const badMeasure = measures?.find((m) => !(m in MEASURES));
  if (badMeasure) throw new UsageError(`--measures: unknown measure '${badMeasure}' (known: ${Object.keys(MEASURES).join(', ')})`);
  if (positionals.length > 0 && !values.soak) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const out = path.resolve(values.out ?? path.join(packageRoot(), 'bench/results.json'));
  const doc = path.resolve(values.doc ?? path.join(packageRoot(), 'docs/PERFORMANCE.md'));
  const log = (line: string) => process.stdout.write(line + '\n');
  const results = readResults(out);

  if (values.soak) {
    const steps = intFlag('soak', positionals[0], 10_000);
    const backend = backends[0] ?? 'wasm';
    log(`soak: ${steps} LeNet-5 steps at batch 32 on ${backend}`);
    const outcome = await runSoakChild(backend, steps, log, threadsFlag(values.threads));
    results.soak = { generatedAt: new Date().toISOString(), backend, outcome };
  } else {
    results.bench = await runBench({
      backends,
      seconds: numberFlag('seconds', values.seconds, 5, 1),
      ...(values.cap ? { cap: numberFlag('cap', values.cap, 60, 1) } : {}),
      peer: !values['no-peer'],
      rounds: intFlag('rounds', values.rounds, 2),
      ...(measures ? { measures } : {}),
      ...(values.threads ? { threads: threadsFlag(values.threads) } : {}),
      log,
    });
  }
  writeResults(out, results);
  updateDoc(doc, results);
  log(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), doc)}`);
  return 0;
}
