import { parseFlags } from '../args';
import { UsageError } from '../errors';
import { tf } from '../../engine/tf';
import { exportPytorch } from '../../engine/export/pytorch';
import { configFromFlags, OPTIONS as TRAIN_OPTIONS } from './train';

export const HELP = `usage: convscope export --model ID [--set key=value ...] --dataset NAME [training options] --to pytorch --out DIR

Writes DIR: a self-contained Python package (model.py, data.py, train.py, runfolder.py, README.md) that trains
the same model with the same settings on PyTorch DistributedDataParallel and writes a ConvScope run folder:
  torchrun --nproc-per-node N DIR/train.py --run-dir RUN      (python3 DIR/train.py: one process)
Training options are convscope train's (--epochs, --batch, --optimizer, --lr, --momentum, --weight-decay,
--schedule, --activation, --dropout, --limit, --test-limit, --preprocess, --augment, --stored-size, --loss, --seed).
  --to pytorch     the only target
  --out DIR        the package folder (new, empty, or an earlier export)`;

const { resume: _resume, json: _json, ...SHARED } = TRAIN_OPTIONS;
const OPTIONS = { ...SHARED, to: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (values.to !== 'pytorch') throw new UsageError(`--to must be pytorch${values.to === undefined ? '' : `, got '${values.to}'`}`);
  if (!values.out) throw new UsageError('--out DIR is required (the package folder)');
  const { config } = configFromFlags({ ...values, out: undefined });
  // Building the model once (for its saved topology) needs a backend; the pure-JS one is always there.
  await tf.setBackend('cpu');
  const result = await exportPytorch(config, values.out);
  process.stdout.write(`exported ${result.spec.id} (${result.parameters.toLocaleString('en-US')} parameters) to ${result.dir}\n`);
  process.stdout.write(`train: torchrun --nproc-per-node 2 ${result.dir}/train.py --run-dir RUN  (see ${result.dir}/README.md)\n`);
  return 0;
}
