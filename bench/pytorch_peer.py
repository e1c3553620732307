"""The peer ConvScope measures itself against: the same LeNet-5 in PyTorch on the same machine.

Usage: /usr/bin/python3 bench/pytorch_peer.py [--batch 128] [--seconds 10] [--threads N]
                                              [--only train|infer] [--peak]
Prints one JSON object: training images/s (SGD, lr 0.01), inference latency (batch 1) and
throughput (batch 256), each after warm-up and capped in time. --only measures one part;
--peak instead times a tight float32 matmul: the machine's attainable FLOP/s for PyTorch.
"""
import argparse
import json
import time

import torch
from torch import nn


def lenet5(activation: str = "tanh") -> nn.Module:
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[activation]
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), act(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), act(), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(256, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, 10),
    )


def timed(step, seconds: float, per_step: int):
    """Items/s over the whole timed loop, mean seconds per step, the fastest single step, and
    items per CPU-second (all threads: what the work costs, whatever else the machine runs)."""
    for _ in range(3):
        step()
    cpu = time.process_time()
    start = time.perf_counter()
    n = 0
    fastest = float("inf")
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - t)
        n += 1
    elapsed = time.perf_counter() - start
    timed.per_cpu_second = n * per_step / (time.process_time() - cpu)
    return n * per_step / elapsed, elapsed / n, fastest


def peak(seconds: float) -> dict:
    """Attainable float32 FLOP/s: a 3x3 convolution (oneDNN, AVX-512/AVX2) and a matmul (BLAS)."""
    x = torch.rand(1, 256, 56, 56)
    w = torch.rand(256, 256, 3, 3)
    with torch.no_grad():
        _, conv, _ = timed(lambda: torch.nn.functional.conv2d(x, w, padding=1), seconds / 2, 1)
    n = 1024
    a = torch.rand(n, n)
    _, mm, _ = timed(lambda: torch.mm(a, a), seconds / 2, 1)
    return {
        "conv3x3GFlops": round(2 * 256 * 256 * 9 * 56 * 56 / conv / 1e9, 1),
        "matmul1024GFlops": round(2 * n ** 3 / mm / 1e9, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--only", choices=["train", "infer"])
    p.add_argument("--peak", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.peak:
        print(json.dumps({"framework": f"pytorch {torch.__version__}", "threads": torch.get_num_threads(), **peak(a.seconds)}))
        return
    torch.manual_seed(0)
    model = lenet5()
    params = sum(t.numel() for t in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 1, 28, 28) * 255
    y = torch.randint(0, 10, (a.batch,))

    def train_step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    result = {
        "framework": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "params": params,
        "batch": a.batch,
    }
    if a.only != "infer":
        train_ips, _, fastest = timed(train_step, a.seconds, a.batch)
        result["trainImagesPerSecond"] = round(train_ips, 1)
        result["trainFastestStepMs"] = round(fastest * 1000, 3)
        result["trainImagesPerCpuSecond"] = round(timed.per_cpu_second, 1)
    if a.only != "train":
        model.eval()
        x1 = torch.rand(1, 1, 28, 28)
        x256 = torch.rand(256, 1, 28, 28)
        with torch.no_grad():
            _, latency, _ = timed(lambda: model(x1), a.seconds / 2, 1)
            infer_ips, _, _ = timed(lambda: model(x256), a.seconds / 2, 256)
        result["inferLatencyMsBatch1"] = round(latency * 1000, 3)
        result["inferImagesPerSecondBatch256"] = round(infer_ips, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
