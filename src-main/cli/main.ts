import { UsageError } from './errors';
import { tuneEngineRuntime } from '../engine/runtime';

interface Command {
  summary: string;
  load: () => Promise<{ HELP: string; run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  summary: { summary: 'print a model’s layers, output shapes and parameter counts', load: () => import('./commands/summary') },
  train: { summary: 'train a model on a dataset into a run folder (metrics, snapshots, checkpoints)', load: () => import('./commands/train') },
  inspect: { summary: 'run one image through a model: every layer’s output, predictions, saliency, Grad-CAM', load: () => import('./commands/inspect') },
  kernels: { summary: 'draw conv kernels as PNG: a run’s kernel snapshots as a timeline, or a model’s current kernels', load: () => import('./commands/kernels') },
  'attribution-eval': { summary: 'how faithful saliency, Grad-CAM, Grad-CAM++, Score-CAM, SmoothGrad and Integrated Gradients are: deletion/insertion curves over N images', load: () => import('./commands/attribution-eval') },
  eval: { summary: 'evaluate a run’s model on its held-out split: accuracy, top-5, confusion matrix, dead ReLUs', load: () => import('./commands/eval') },
  histograms: { summary: 'a run’s weight, activation and gradient distributions over training, per layer, as charts', load: () => import('./commands/histograms') },
  experiment: { summary: 'run a named experiment (arms x seeds) and write its report', load: () => import('./commands/experiment') },
  serve: { summary: 'serve the UI in a browser (engine in a child process, token-guarded, loopback by default)', load: () => import('./commands/serve') },
  export: { summary: 'write a PyTorch DDP package that trains the same experiment and writes a ConvScope run folder', load: () => import('./commands/export') },
  import: { summary: 'convert a pretrained ONNX, Caffe or TensorFlow.js model into a ConvScope model folder', load: () => import('./commands/import') },
  'top-patches': { summary: 'the dataset patches that excite each channel of a conv or pooling layer most (PNG grids + JSON)', load: () => import('./commands/top-patches') },
  neighbours: { summary: 'the training examples nearest to an image in a layer’s feature space (Euclidean)', load: () => import('./commands/neighbours') },
  embed: { summary: 'a 2-D map (PCA) of a dataset split in a layer’s feature space: SVG maps + coordinates', load: () => import('./commands/embed') },
  visualize: { summary: 'feature visualisation by optimisation: the image a channel or class responds to most (Lucid’s recipe)', load: () => import('./commands/visualize') },
  bench: { summary: 'measure training and inference speed on every backend beside PyTorch; writes bench/results.json and docs/PERFORMANCE.md', load: () => import('./commands/bench') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: convscope <command> [options]', '', 'commands:', ...lines, '', 'convscope <command> --help for its options'].join('\n');
}

/** Runs one CLI command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`convscope: unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  tuneEngineRuntime();
  try {
    const mod = await command.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(mod.HELP + '\n');
      return 0;
    }
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof UsageError || isUserFacing(err)) {
      process.stderr.write(`convscope ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`convscope ${name}: internal error: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

/** Engine errors meant for users carry `userFacing = true`; their message is the whole story. */
function isUserFacing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { userFacing?: unknown }).userFacing === true;
}
