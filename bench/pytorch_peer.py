"""The peer ConvScope measures itself against: the same LeNet-5 in PyTorch on the same machine.

Usage: /usr/bin/python3 bench/pytorch_peer.py [--batch 128] [--seconds 10] [--threads N]
Prints one JSON object: training images/s (SGD, lr 0.01), inference latency (batch 1) and
throughput (batch 256), each after warm-up and capped in time.
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
    for _ in range(3):
        step()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    elapsed = time.perf_counter() - start
    return n * per_step / elapsed, elapsed / n


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
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

    train_ips, _ = timed(train_step, a.seconds, a.batch)
    model.eval()
    x1 = torch.rand(1, 1, 28, 28)
    x256 = torch.rand(256, 1, 28, 28)
    with torch.no_grad():
        _, latency = timed(lambda: model(x1), a.seconds / 2, 1)
        infer_ips, _ = timed(lambda: model(x256), a.seconds / 2, 256)
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "params": params,
        "batch": a.batch,
        "trainImagesPerSecond": round(train_ips, 1),
        "inferLatencyMsBatch1": round(latency * 1000, 3),
        "inferImagesPerSecondBatch256": round(infer_ips, 1),
    }))


if __name__ == "__main__":
    main()
