import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { intFlag, numberFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { bar, eta, StatusLine } from '../progress';
import { findRecipe, RECIPES } from '../../engine/experiments/recipes';
import { runExperiment, type ArmRun } from '../../engine/experiments/runner';
import { writeReport } from '../../engine/experiments/report';
import { experimentNotes } from '../../engine/experiments/notes';

export const HELP = `usage: convscope experiment NAME --out DIR [options]

Runs a named experiment (every arm, for each seed) and writes DIR/report.md, plots (SVG, PNG) and
metrics.json. Finished runs are reused and interrupted ones resume (at the last checkpoint), so the same
command continues after Ctrl-C or a restart.
  NAME               ${RECIPES.map((r) => r.name).join(', ')}
  --out DIR          where the report goes
  --runs DIR         the store of run folders (default: DIR/../runs, shared by experiments beside DIR)
  --epochs N         override the recipe's epochs
  --limit N          train on the first N training examples
  --test-limit N     evaluate on the first N test examples
  --seeds N          repeat every arm with seeds 1..N (default 1)
  --scale X          size multiplier for alexnet-ablations (default 1)
  --backend B        auto (default), gpu, webgpu, node, wasm or cpu`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      out: { type: 'string' },
      runs: { type: 'string' },
      epochs: { type: 'string' },
      limit: { type: 'string' },
      'test-limit': { type: 'string' },
      seeds: { type: 'string' },
      scale: { type: 'string' },
      backend: { type: 'string' },
    },
    true,
  );
  const [name, ...extra] = positionals;
  if (!name) throw new UsageError(`name an experiment: ${RECIPES.map((r) => r.name).join(', ')}`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const recipe = findRecipe(name);
  if (!recipe) throw new UsageError(`unknown experiment '${name}' (experiments: ${RECIPES.map((r) => r.name).join(', ')})`);
  if (!values.out) throw new UsageError('--out DIR is required');
  const out = path.resolve(values.out);
  const options = {
    epochs: values.epochs === undefined ? undefined : intFlag('epochs', values.epochs, 1),
    limit: values.limit === undefined ? undefined : intFlag('limit', values.limit, 1),
    testLimit: values['test-limit'] === undefined ? undefined : intFlag('test-limit', values['test-limit'], 1),
    seeds: intFlag('seeds', values.seeds, 1),
    scale: numberFlag('scale', values.scale, 1, 0.01),
    backend: values.backend ?? 'auto',
    runsDir: path.resolve(values.runs ?? path.join(out, '..', 'runs')),
  };

  const started = Date.now();
  const status = new StatusLine();
  const runs = await runExperiment(recipe, {
    ...options,
    argv: process.argv,
    onArm: (arm, seed, dir, action) => status.line(`${action === 'reuse' ? 'reusing' : action === 'resume' ? 'resuming' : 'starting'} ${arm.label} (seed ${seed}): ${path.relative(process.cwd(), dir)}`),
    onProgress: (p) => {
      const fraction = p.totalSteps ? p.step / p.totalSteps : 0;
      const c = p.current;
      // The current run's pace, applied to every step left in the experiment.
      const secondsPerStep = c && c.etaSeconds !== null && c.totalSteps > c.step ? c.etaSeconds / (c.totalSteps - c.step) : null;
      const left = secondsPerStep === null ? null : (p.totalSteps - p.step) * secondsPerStep;
      const armText = c ? ` ${p.label} epoch ${c.epoch}/${c.epochs} loss ${c.loss.toFixed(4)} ${Math.round(c.imagesPerSecond)} images/s` : ` ${p.label}`;
      status.update(`${recipe.name} ${bar(fraction)} arm ${p.armIndex + 1}/${p.arms}${armText} ETA ${eta(left)}`, fraction, c === null);
    },
  });
  status.done();
  const first = runs.find((r) => r.epochs.length)?.epochs[0];
  const ctx = {
    command: ['convscope', 'experiment', ...argv].join(' '),
    backend: runs.map((r) => r.backend).filter((b, i, a) => a.indexOf(b) === i).join(', ') || options.backend,
    wallSeconds: (Date.now() - started) / 1000,
    seeds: options.seeds,
    trainExamples: first?.examples ?? 0,
    testExamples: await testExamples(runs[0]),
  };
  await writeReport(out, recipe, runs, ctx, experimentNotes(recipe, runs));
  process.stderr.write(`report: ${path.join(out, 'report.md')}\n`);
  return 0;
}

/** Held-out examples the runs evaluated on: the run's held-out split, cut to the recipe's test limit. */
async function testExamples(run: ArmRun | undefined): Promise<number | null> {
  if (!run) return null;
  try {
    const record = JSON.parse(await readFile(path.join(run.runDir, 'dataset.json'), 'utf8')) as { heldOutExamples?: number };
    if (record.heldOutExamples === undefined) return null;
    return Math.min(record.heldOutExamples, run.arm.config.testLimit ?? Infinity);
  } catch {
    return null;
  }
}
