"""The peer ConvScope measures itself against: the same networks in PyTorch on the same machine.

Usage: /usr/bin/python3 bench/pytorch_peer.py [--batch 128] [--seconds 10] [--threads N]
                                              [--only train|infer] [--peak] [--model lenet5|alexnet]
Prints one JSON object. LeNet-5: training images/s (SGD, lr 0.01), inference latency (batch 1) and
throughput (batch 256), each after warm-up and capped in time; --only measures one part.
AlexNet (the paper's, as ConvScope's zoo builds it: LRN, grouped conv2/4/5, 60,965,224 parameters):
training images/s at batch 32 (SGD, momentum 0.9, weight decay 5e-4, dropout), and, with --only
infer, the single-image inspection as ConvScope's bench times it: the same 500x375 JPEG decoded,
scaled and centre-cropped to 227x227, pixels / 255, one forward pass keeping every layer's activation
with its min / max / mean, and the top 5, median ms. --peak instead times a tight float32 convolution and
matmul: the machine's attainable FLOP/s for PyTorch. --threads N: torch.set_num_threads(N).
"""
import argparse
import io
import json
import statistics
import time

import numpy as np
import torch
from PIL import Image
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


def alexnet() -> nn.Module:
    """The paper's AlexNet as ConvScope's zoo builds it (227x227x3, 1000 classes). ConvScope's LRN is
    a / (2 + 1e-4 * sum over 5 channels of a^2)^0.75; torch divides alpha by the size: 5 * 1e-4."""
    def lrn():
        return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


ALEXNET_PARAMS = 60_965_224


def photo() -> bytes:
    """The JPEG ConvScope's bench inspects (bench/measures.ts photo()): smooth gradients and a disc."""
    y, x = np.mgrid[0:375, 0:500]
    disc = np.where((x - 250) ** 2 + (y - 180) ** 2 < 80 ** 2, 240, 40)
    rgb = np.stack([x * 255 / 500, y * 255 / 375, disc], axis=-1).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=90)
    return out.getvalue()


def prepare(jpeg: bytes, size: int = 227) -> torch.Tensor:
    """Decoded, shorter side scaled to `size`, centre crop (ConvScope's 'cover'), pixels / 255, NCHW."""
    img = Image.open(io.BytesIO(jpeg)).convert("RGB")
    scale = size / min(img.size)
    img = img.resize((max(size, round(img.width * scale)), max(size, round(img.height * scale))), Image.BILINEAR)
    left, top = (img.width - size) // 2, (img.height - size) // 2
    img = img.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1).unsqueeze(0)


def alexnet_peer(a) -> dict:
    torch.manual_seed(0)
    model = alexnet()
    params = sum(t.numel() for t in model.parameters())
    if params != ALEXNET_PARAMS:
        raise SystemExit(f"AlexNet has {params} parameters, ConvScope's has {ALEXNET_PARAMS}")
    result = {"framework": f"pytorch {torch.__version__}", "model": "alexnet", "threads": torch.get_num_threads(), "params": params}
    if a.only == "infer":
        model.eval()
        stats = []
        # Every layer's activation is kept (as ConvScope's inspection returns them all) with its summary.
        def keep(_module, _inputs, out):
            stats.append((out, out.min(), out.max(), out.mean()))
        for layer in model:
            layer.register_forward_hook(keep)
        jpeg = photo()
        times = []

        def inspect():
            stats.clear()
            t = time.perf_counter()
            with torch.no_grad():
                probs = torch.softmax(model(prepare(jpeg)), dim=1)
                top = torch.topk(probs, 5)
                [float(v) for s in stats for v in s[1:]]
                top.indices.tolist()
            times.append(time.perf_counter() - t)
        timed(inspect, a.seconds, 1, warmup=1)
        result["inspectMedianMs"] = round(statistics.median(times) * 1000, 2)
        result["inspectSteps"] = len(times)
        result["layers"] = len(stats)
        return result
    batch = 32
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0005)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 3, 227, 227) * 2 - 1
    y = torch.randint(0, 1000, (batch,))

    def train_step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    ips, _, fastest = timed(train_step, a.seconds, batch, warmup=1, min_steps=2)
    result.update({"batch": batch, "trainImagesPerSecond": round(ips, 2), "trainFastestStepMs": round(fastest * 1000, 1),
                   "trainImagesPerCpuSecond": round(timed.per_cpu_second, 2)})
    return result


def timed(step, seconds: float, per_step: int, warmup: int = 3, min_steps: int = 1):
    """Items/s over the whole timed loop, mean seconds per step, the fastest single step, and
    items per CPU-second (all threads: what the work costs, whatever else the machine runs)."""
    for _ in range(warmup):
        step()
    cpu = time.process_time()
    start = time.perf_counter()
    n = 0
    fastest = float("inf")
    while time.perf_counter() - start < seconds or n < min_steps:
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
    p.add_argument("--model", choices=["lenet5", "alexnet"], default="lenet5")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.model == "alexnet":
        print(json.dumps(alexnet_peer(a)))
        return
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
