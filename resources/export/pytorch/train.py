#!/usr/bin/env python3
"""Trains the exported ConvScope experiment with PyTorch DistributedDataParallel, writing a ConvScope run folder.

    python3 train.py --run-dir RUN                                  one process
    torchrun --nproc-per-node N train.py --run-dir RUN              N processes on this machine
    torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d --rdzv-endpoint HOST:PORT train.py --run-dir RUN

NCCL on GPUs, Gloo on CPUs. The global batch is the experiment's batch size, split evenly over the
processes. Rank 0 writes the run folder; `--run-dir` of an existing run resumes from its checkpoint.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data as datasets  # noqa: E402
import runfolder as rf  # noqa: E402
from model import PARAMETERS, Net, parameter_count  # noqa: E402

EXPERIMENT = json.loads((HERE / "experiment.json").read_text())
KERAS_EPSILON = 1e-7
SATURATION = 0.97


# ---- the loss, optimizers and schedule, as ConvScope defines them ----

def loss_fn(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> torch.Tensor:
    logits = logits.float()
    if kind == "keras-clipped":
        # Keras 2.2's categorical_crossentropy: -log(clip(softmax, 1e-7, 1 - 1e-7)). A clipped example adds
        # 16.12 to the loss and nothing to the gradient.
        p = torch.softmax(logits, 1).gather(1, labels[:, None]).squeeze(1)
        return -torch.log(p.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)).mean()
    return F.cross_entropy(logits, labels)  # exact: log-sum-exp of the logits


class PaperSGD(torch.optim.Optimizer):
    """The AlexNet paper's update: v <- momentum v - wd lr w - lr g;  w <- w + v (torch.optim.SGD differs when lr changes)."""

    def __init__(self, params, lr: float, momentum: float, weight_decay: float) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})
        self.iterations = 0

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                step = -(lr * w.grad)
                if wd > 0:
                    step = step - (wd * lr) * w
                if momentum > 0:
                    v = self.state[w].setdefault("velocity", torch.zeros_like(w))
                    v.mul_(momentum).add_(step)
                    step = v
                w.add_(step)
        self.iterations += 1


class KerasAdam(torch.optim.Optimizer):
    """Adam as tf.train.adam: w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps); wd adds wd w to g."""

    def __init__(self, params, lr: float, beta1: float, beta2: float, epsilon: float, weight_decay: float) -> None:
        super().__init__(params, {"lr": lr, "beta1": beta1, "beta2": beta2, "epsilon": epsilon, "weight_decay": weight_decay})
        self.iterations = 0

    @torch.no_grad()
    def step(self, closure=None):
        t = self.iterations + 1
        for group in self.param_groups:
            b1, b2, eps, wd = group["beta1"], group["beta2"], group["epsilon"], group["weight_decay"]
            step_size = group["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad + wd * w if wd > 0 else w.grad
                state = self.state[w]
                m = state.setdefault("m", torch.zeros_like(w))
                v = state.setdefault("v", torch.zeros_like(w))
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                w.sub_(step_size * m / (v.sqrt() + eps))
        self.iterations = t


def make_optimizer(params, config: dict) -> torch.optim.Optimizer:
    o = config["optimizer"]
    if o["kind"] == "sgd":
        return PaperSGD(params, o["lr"], o["momentum"], o["weightDecay"])
    return KerasAdam(params, o["lr"], o["beta1"], o["beta2"], o["epsilon"], o["weightDecay"])


def after_epoch(schedule: dict, state: dict, error: float) -> dict:
    """The paper's plateau schedule: divide the rate by `factor` when held-out error stops improving, at most maxDrops times."""
    if schedule["kind"] == "constant":
        return state
    if state["bestError"] is None or error < state["bestError"] - schedule["minDelta"]:
        return {**state, "bestError": error, "epochsWithoutImprovement": 0}
    stalled = state["epochsWithoutImprovement"] + 1
    if stalled >= schedule["patience"] and state["drops"] < schedule["maxDrops"]:
        return {**state, "lr": state["lr"] / schedule["factor"], "epochsWithoutImprovement": 0, "drops": state["drops"] + 1}
    return {**state, "epochsWithoutImprovement": stalled}


def derive_seed(*parts: int) -> int:
    """ConvScope's 32-bit seed mix (murmur3 finaliser over a running hash)."""
    h = 0x9E3779B9
    for part in parts:
        h = ((h ^ (part & 0xFFFFFFFF)) * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        h ^= h >> 16
        h = ((h ^ (part // 2**32)) * 0x27D4EB2D) & 0xFFFFFFFF
        h ^= h >> 15
    return h


# ---- the run ----

def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", required=True, help="the ConvScope run folder (an existing one is resumed)")
    p.add_argument("--epochs", type=int, help=f"epochs in all (experiment: {EXPERIMENT['config']['epochs']})")
    p.add_argument("--limit", type=int, help="train on the first N training examples")
    p.add_argument("--test-limit", type=int, help="evaluate on the first N held-out examples")
    p.add_argument("--data-dir", help="mnist / fashion-mnist: the folder of the four IDX files")
    p.add_argument("--init-from", help="start from the weights of a ConvScope model folder (model.json + weights.bin)")
    p.add_argument("--amp", action="store_true", help="mixed precision (float16 autocast, GPUs only)")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    p.add_argument("--workers", type=int, default=None, help="data loader processes per rank (folder datasets)")
    return p.parse_args()


class Distributed:
    """torchrun's environment, or one process."""

    def __init__(self, cpu: bool) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and not cpu
        self.device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        self.backend = "nccl" if use_cuda else "gloo"
        if self.world > 1:
            dist.init_process_group(self.backend)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, values: list[float]) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def share(self, value):
        """Rank 0's value, on every rank."""
        if self.world == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invocation(d: Distributed, amp: bool) -> dict:
    return {
        "argv": [sys.executable, *sys.argv], "cwd": os.getcwd(), "startedAt": now(),
        "backend": {"name": "pytorch", "device": str(d.device), "distributed": d.backend, "worldSize": d.world, "amp": amp},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "convscope": EXPERIMENT["convscopeVersion"]},
        "host": {"hostname": socket.gethostname(), "platform": sys.platform, "release": platform.release(), "arch": platform.machine(),
                 "cpus": os.cpu_count() or 1, "cpuModel": platform.processor() or "unknown", "totalMemoryBytes": total_memory()},
        "env": {k: v for k, v in os.environ.items() if k.startswith(("CUDA_", "NCCL_", "OMP_", "MASTER_", "WORLD_SIZE", "SLURM_JOB"))},
    }


def total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def with_classes(spec: dict, topology: dict, config: dict, classes: int) -> tuple[dict, dict, dict]:
    """The dataset decides the output layer's units unless the experiment fixed `classes` (as ConvScope does)."""
    if classes == spec["classes"]:
        return spec, topology, config
    if config["model"]["overrides"].get("classes") not in (None, classes):
        raise SystemExit(f"the model has {spec['classes']} classes but {config['dataset']} has {classes}")
    out_layer = spec["layers"][-1]["name"]
    spec = {**spec, "classes": classes, "layers": [*spec["layers"][:-1], {**spec["layers"][-1], "units": classes}],
            "options": {**spec["options"], "classes": classes}}
    topology = json.loads(json.dumps(topology))
    for layer in topology["config"]["layers"]:
        if layer["config"]["name"] == out_layer:
            layer["config"]["units"] = classes
    config = {**config, "model": {**config["model"], "overrides": {**config["model"]["overrides"], "classes": classes}}}
    return spec, topology, config


def main() -> None:
    args = parse_args()
    d = Distributed(args.cpu)
    run_dir = Path(args.run_dir).resolve()
    checkpoint_file = run_dir / "checkpoint.bin"
    # Only rank 0 touches the run folder: what the others need from it is broadcast (no shared storage needed).
    saved = None
    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if checkpoint_file.exists():
            rf.remove_torn_files(run_dir)
            saved = (rf.read_json(run_dir / "config.json"), rf.read_checkpoint(checkpoint_file))
    saved = d.share(saved)
    resuming = saved is not None
    config = saved[0] if resuming else dict(EXPERIMENT["config"])
    if args.epochs is not None:
        config["epochs"] = args.epochs
    if resuming and (args.limit is not None or args.test_limit is not None):
        raise SystemExit("a resumed run keeps its --limit and --test-limit")
    if args.limit is not None:
        config["limit"] = args.limit
    if args.test_limit is not None:
        config["testLimit"] = args.test_limit
    batch = config["batchSize"]
    if batch % d.world:
        raise SystemExit(f"the batch of {batch} cannot be split evenly over {d.world} processes")

    # Data: every rank opens it; rank 0 fits the preprocessing and writes what the run folder needs.
    spec, topology = EXPERIMENT["spec"], EXPERIMENT["topology"]
    input_shape = tuple(spec["input"])
    side = max(input_shape[0], input_shape[1])
    stored = config["storedSize"] or side
    if config["dataset"].startswith("folder:") and config["storedSize"] is None and config["augment"] != "none":
        stored = 256 if 224 <= side <= 227 else datasets.round_half_up(side * 256 / 224)  # ConvScope's S for the input
    opened = datasets.open_dataset(config["dataset"], args.data_dir, input_shape, stored, config["seed"])
    train_split, test_split = opened["train"], opened["test"]
    if config["limit"] is not None:
        train_split = train_split.subset(list(range(min(config["limit"], len(train_split)))))
    if config["testLimit"] is not None:
        test_split = test_split.subset(list(range(min(config["testLimit"], len(test_split)))))
    spec, topology, config = with_classes(spec, topology, config, len(opened["classNames"]))
    dataset_id = config["dataset"] if not config["dataset"].startswith("folder:") else f"folder:{opened['source']}"

    preprocess = None
    if d.main and resuming:
        preprocess = rf.read_json(run_dir / "preprocess.json")
    elif d.main:
        for name in ("batch.jsonl", "epochs.jsonl", "layer-stats.jsonl"):
            (run_dir / name).unlink(missing_ok=True)
        preprocess = datasets.fit_preprocessor(config["preprocess"], dataset_id, train_split)
        rf.write_json(run_dir / "config.json", config)
        rf.write_json(run_dir / "spec.json", spec)
        rf.write_json(run_dir / "preprocess.json", preprocess)
        rf.write_json(run_dir / "dataset.json", {
            "id": dataset_id, "title": opened["title"], "source": opened["source"], "classNames": opened["classNames"],
            "trainExamples": len(train_split), "heldOutExamples": len(test_split), "heldOut": opened["heldOut"],
            **({"storedSize": stored} if config["dataset"].startswith("folder:") else {}),
        })
        rf.write_json(run_dir / "command.json", {**invocation(d, args.amp), "resumes": []})
    preprocess = d.share(preprocess)
    if d.main and resuming:
        rf.write_json(run_dir / "config.json", config)  # --epochs may have extended it
        command = rf.read_json(run_dir / "command.json")
        command["resumes"].append({**invocation(d, args.amp), "fromStep": saved[1][0]["position"]["globalStep"]})
        rf.write_json(run_dir / "command.json", command)

    pca = datasets.colour_pca(train_split) if config["augment"] == "paper" else None
    pipeline = datasets.InputPipeline(preprocess, input_shape, config["augment"], pca, d.device)

    # Model, optimizer, state.
    torch.manual_seed(config["seed"])
    net = Net(classes=spec["classes"]).to(d.device)
    names = EXPERIMENT["weights"]
    trainable = [n for n in names if not n.endswith(("/moving_mean", "/moving_variance"))]
    optimizer = make_optimizer([rf.tensor_of(net, n)[0] for n in trainable], config)
    position = {"epoch": 0, "stepInEpoch": 0, "globalStep": 0}
    schedule = {"lr": config["optimizer"]["lr"], "bestError": None, "epochsWithoutImprovement": 0, "drops": 0}
    sums = {"examples": 0, "lossSum": 0.0, "correct": 0.0, "correct5": 0.0, "trainSeconds": 0.0}
    epochs: list[dict] = []
    order_state = datasets.Xoshiro128.seeded(config["seed"]).state()
    logs = {k: rf.JsonLines(run_dir / f) for k, f in (("batches", "batch.jsonl"), ("epochs", "epochs.jsonl"), ("layerStats", "layer-stats.jsonl"))}
    if resuming:
        meta, arrays = saved[1]
        rf.load_weight_arrays(net, arrays["weights"], names)
        for n in trainable:
            tensor, kind = rf.tensor_of(net, n)
            for slot in ("velocity", "m", "v"):
                if f"{n}/{slot}" in arrays.get("optimizer", {}):
                    optimizer.state[tensor][slot] = rf.from_convscope(arrays["optimizer"][f"{n}/{slot}"], kind).to(d.device)
        optimizer.iterations = meta["optimizerIterations"]
        position, schedule, sums, epochs = meta["position"], meta["schedule"], meta["epochSums"], meta["epochs"]
        order_state = meta["orderRng"]
        if d.main:
            for key, log in logs.items():
                log.truncate_to(meta["logBytes"][key])
            print(f"resuming {run_dir} from step {position['globalStep']} (epoch {position['epoch'] + 1})", flush=True)
    elif args.init_from and d.main:
        # The other ranks get these weights from DistributedDataParallel, which broadcasts rank 0's at the start.
        rf.load_weight_arrays(net, rf.read_model_folder(Path(args.init_from)), names)
    if d.main:
        count = parameter_count(net)
        same = "equal to" if count == PARAMETERS or spec["classes"] != EXPERIMENT["spec"]["classes"] else "DIFFERENT from"
        print(f"{spec['title']}: {count:,} parameters ({same} ConvScope's summary: {PARAMETERS:,}); "
              f"{d.world} process(es), {d.backend} on {d.device}", flush=True)
    model = DistributedDataParallel(net, device_ids=[d.device.index] if d.device.type == "cuda" else None) if d.world > 1 else net

    sampler = datasets.EpochOrderSampler(len(train_split), order_state, position["epoch"], d.world, d.rank)
    workers = args.workers if args.workers is not None else datasets.workers_for(train_split)
    loader_args = {"num_workers": workers, "pin_memory": d.device.type == "cuda", "persistent_workers": workers > 0}
    train_loader = torch.utils.data.DataLoader(train_split, batch_size=batch // d.world, sampler=sampler, **loader_args)
    probe_split = test_split if len(test_split) else train_split
    probe = pipeline(torch.stack([probe_split[i][0] for i in range(min(config["probeSize"], len(probe_split)))]))
    snapshots = rf.KernelSnapshots(run_dir, conv_kernels(net, spec), config["snapshotBudgetBytes"]) if d.main else None
    scaler = torch.cuda.amp.GradScaler(enabled=args.amp and d.device.type == "cuda")
    stop = {"requested": False}
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.update(requested=True))

    def status(state: str, message: str | None = None) -> None:
        if d.main:
            rf.write_json(run_dir / "status.json", {"state": state, "pid": os.getpid(), "host": socket.gethostname(), "updatedAt": now(),
                                                   "globalStep": position["globalStep"], "epoch": position["epoch"], **({"message": message} if message else {})})

    last_checkpoint = time.monotonic()

    def checkpoint() -> None:
        nonlocal last_checkpoint
        last_checkpoint = time.monotonic()
        if not d.main:
            return
        meta = {"version": 1, "savedAt": now(), "position": position, "orderRng": sampler.start_state(position["epoch"]),
                "schedule": schedule, "optimizerIterations": optimizer.iterations, "epochSums": sums, "epochs": epochs,
                "logBytes": {k: log.bytes for k, log in logs.items()}, "pytorch": {"worldSize": d.world, "amp": args.amp}}
        groups = {"weights": rf.weight_arrays(net, names), "optimizer": rf.slot_arrays(net, optimizer.state, trainable)}
        rf.write_atomic(checkpoint_file, rf.encode_checkpoint(meta, groups))
        status("running")  # the step ConvScope shows for a run it follows from disk

    def snapshot() -> None:
        if d.main and position["globalStep"] not in snapshots.steps:
            snapshots.add(position["globalStep"], position["epoch"], conv_kernels(net, spec))

    status("running")
    if d.main and resuming:
        snapshots.drop_after(position["globalStep"])
    if not resuming:
        snapshot()
        checkpoint()
        if d.main:  # ConvScope rebuilds its own runs' step 0 from the seed; this initialisation it cannot
            rf.write_model_folder(run_dir / "initial", topology, rf.weight_arrays(net, names), {"preprocess": preprocess, "classNames": opened["classNames"]})
    per_epoch = math.ceil(len(train_split) / batch)
    finished = True
    try:
        while position["epoch"] < config["epochs"]:
            sampler.set_epoch(position["epoch"])
            sampler.skip = position["stepInEpoch"] * batch
            for images, labels in train_loader:
                if d.sum([float(stop["requested"])])[0] > 0:
                    checkpoint()
                    finished = False
                    break
                started = time.perf_counter()
                step = position["globalStep"] + 1
                in_epoch = position["stepInEpoch"] + 1
                generator = torch.Generator().manual_seed(derive_seed(config["seed"], 0x6175676D, step, d.rank))
                x = pipeline(images, generator)
                y = labels.to(d.device)
                model.train()
                with torch.autocast(d.device.type, enabled=scaler.is_enabled()):
                    logits = model(x)
                loss = loss_fn(logits, y, config["loss"])
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                for group in optimizer.param_groups:
                    group["lr"] = schedule["lr"]
                stats_due = config["statsEvery"] > 0 and (step % config["statsEvery"] == 0 or in_epoch == per_epoch)
                grad_norms = gradient_norms(net, spec) if stats_due and d.main else None
                scaler.step(optimizer)
                scaler.update()
                top1, top5 = correct_counts(logits.detach().float(), y)
                n = len(y)
                loss_sum, correct, correct5, examples = d.sum([loss.item() * n, top1, top5, n])
                mean_loss = loss_sum / examples
                if not math.isfinite(mean_loss):
                    raise FloatingPointError(f"the loss is {mean_loss} at step {step} (epoch {position['epoch'] + 1}): the run diverged")
                position = {**position, "stepInEpoch": in_epoch, "globalStep": step}
                seconds = time.perf_counter() - started
                sums = {"examples": sums["examples"] + examples, "lossSum": sums["lossSum"] + loss_sum, "correct": sums["correct"] + correct,
                        "correct5": sums["correct5"] + correct5, "trainSeconds": sums["trainSeconds"] + seconds}
                if d.main:
                    logs["batches"].append({"step": step, "epoch": position["epoch"] + 1, "batch": in_epoch, "size": int(examples),
                                            "loss": mean_loss, "accuracy": correct / examples, "lr": schedule["lr"], "seconds": seconds})
                    if grad_norms is not None:
                        logs["layerStats"].append({"step": step, "epoch": position["epoch"] + 1, "probeSize": len(probe),
                                                   "layers": probe_stats(net, spec, probe, grad_norms)})
                    if config["snapshotEvery"] > 0 and step % config["snapshotEvery"] == 0:
                        snapshot()
                every = config["checkpointEverySteps"]
                if (every > 0 and step % every == 0) or time.monotonic() - last_checkpoint >= config["checkpointEverySeconds"]:
                    checkpoint()
            if not finished:
                break
            eval_started = time.perf_counter()
            test = evaluate(net, test_split, pipeline, batch, d, config["loss"], len(opened["classNames"]))
            top_k = len(opened["classNames"]) > 5
            record = {"epoch": position["epoch"] + 1, "examples": int(sums["examples"]), "loss": sums["lossSum"] / sums["examples"],
                      "accuracy": sums["correct"] / sums["examples"], **({"top5Accuracy": sums["correct5"] / sums["examples"]} if top_k else {}),
                      "testLoss": test["loss"] if test else None, "testAccuracy": test["accuracy"] if test else None,
                      **({"testTop5Accuracy": test["top5Accuracy"] if test else None} if top_k else {}),
                      "lr": schedule["lr"], "seconds": sums["trainSeconds"] + time.perf_counter() - eval_started,
                      "trainSeconds": sums["trainSeconds"], "imagesPerSecond": sums["examples"] / max(sums["trainSeconds"], 1e-9)}
            epochs.append(record)
            if d.main:
                logs["epochs"].append(record)
                test_text = f", test accuracy {record['testAccuracy']:.4f}" if test else ""
                print(f"epoch {record['epoch']}: loss {record['loss']:.4f}, accuracy {record['accuracy']:.4f}{test_text}, "
                      f"{record['imagesPerSecond']:.0f} images/s", flush=True)
            if test:
                schedule = after_epoch(config["schedule"], schedule, 1 - test["accuracy"])
            sums = {"examples": 0, "lossSum": 0.0, "correct": 0.0, "correct5": 0.0, "trainSeconds": 0.0}
            position = {"epoch": position["epoch"] + 1, "stepInEpoch": 0, "globalStep": position["globalStep"]}
            checkpoint()
        if finished:
            snapshot()
        if d.main:
            metadata = {"preprocess": preprocess, "classNames": opened["classNames"]}
            rf.write_model_folder(run_dir / "model", topology, rf.weight_arrays(net, names), metadata)
        status("finished" if finished else "stopped")
    except Exception as err:
        status("failed", str(err))
        raise
    finally:
        if d.world > 1:
            dist.destroy_process_group()
    if not finished:
        sys.exit(130)


def correct_counts(scores: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Top-1 and top-5 hits; the rank of the true class is the number of classes scored higher (ConvScope's rule)."""
    rank = (scores > scores.gather(1, labels[:, None])).sum(1)
    return float((rank == 0).sum()), float((rank < 5).sum())


def conv_kernels(net: nn.Module, spec: dict) -> list[tuple[str, np.ndarray]]:
    return [(l["name"], rf.to_convscope(getattr(net, l["name"]).weight, "conv")) for l in spec["layers"] if l["kind"] == "conv"]


def gradient_norms(net: nn.Module, spec: dict) -> dict[str, float]:
    """L2 norm of each layer's weight gradients together (after DDP's averaging)."""
    out = {}
    for layer in spec["layers"]:
        grads = [p.grad for p in getattr(net, layer["name"]).parameters() if p.grad is not None]
        if grads:
            out[layer["name"]] = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))
    return out


@torch.no_grad()
def probe_stats(net: nn.Module, spec: dict, probe: torch.Tensor, grad_norms: dict[str, float]) -> list[dict]:
    """ConvScope's layer statistics on the fixed probe batch: dead ReLU channels, saturated tanh/sigmoid units."""
    outputs: dict[str, torch.Tensor] = {}
    hooks = [getattr(net, l["name"]).register_forward_hook(lambda _m, _i, out, name=l["name"]: outputs.__setitem__(name, out)) for l in spec["layers"]]
    was_training = net.training
    net.eval()
    try:
        net(probe)
    finally:
        net.train(was_training)
        for h in hooks:
            h.remove()
    stats = []
    for layer in spec["layers"]:
        activation = layer.get("activation") if layer["kind"] in ("conv", "dense", "activation") else None
        s: dict = {"layer": layer["name"], "kind": layer["kind"], "activation": activation}
        if layer["name"] in grad_norms:
            s["gradientNorm"] = grad_norms[layer["name"]]
        out = outputs[layer["name"]].float()
        if activation == "relu":
            spatial_max = out.amax((2, 3)) if out.dim() == 4 else out  # N x C
            dead = (spatial_max <= 0).float().mean(0).tolist()
            s.update(deadFraction=dead, channels=len(dead), deadChannels=sum(1 for f in dead if f == 1))
        elif activation == "tanh":
            s["saturatedFraction"] = float((out.abs() > SATURATION).float().mean())
        elif activation == "sigmoid":
            s["saturatedFraction"] = float(((out < 1 - SATURATION) | (out > SATURATION)).float().mean())
        stats.append(s)
    return stats


@torch.no_grad()
def evaluate(net: nn.Module, split: datasets.Split, pipeline: datasets.InputPipeline, batch: int, d: Distributed, loss_kind: str, classes: int) -> dict | None:
    """Loss and accuracy on the whole held-out split: rank r takes examples r, r + W, ... (no padding), sums are added up."""
    if len(split) == 0:
        return None
    was_training = net.training
    net.eval()
    part = split.subset(list(range(d.rank, len(split), d.world)))
    loader = torch.utils.data.DataLoader(part, batch_size=batch, num_workers=datasets.workers_for(split))
    loss_sum = correct = correct5 = 0.0
    for images, labels in loader:
        logits = net(pipeline(images)).float()
        y = labels.to(d.device)
        loss_sum += loss_fn(logits, y, loss_kind).item() * len(y)
        top1, top5 = correct_counts(logits, y)
        correct, correct5 = correct + top1, correct5 + top5
    net.train(was_training)
    loss_sum, correct, correct5 = d.sum([loss_sum, correct, correct5])
    return {"loss": loss_sum / len(split), "accuracy": correct / len(split), "top5Accuracy": correct5 / len(split)}


if __name__ == "__main__":
    main()
