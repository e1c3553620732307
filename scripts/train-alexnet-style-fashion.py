#!/usr/bin/python3
"""Trains a small torchvision-layout AlexNet on Fashion-MNIST and exports it to ONNX, for the attribution report.

Run with Debian's interpreter (torch 1.13, CPU): /usr/bin/python3 scripts/train-alexnet-style-fashion.py [OUT_DIR]
(default OUT_DIR: docs/results/attribution/alexnet-style-fashion). Reads the IDX .gz files from
/usr/share/datasets/fashion-mnist (or $FASHION_MNIST_DIR); seeded, 2 threads; 3 epochs, 10.5 min on a loaded 2-core machine.

The model: torchvision's AlexNet layout (conv1 11x11 stride 4 pad 2, 3x3 stride-2 max-pools, dropout before
the FC layers, here p=0.1, logits out) at 1/4 of its conv widths (16-48-96-64-64) and FC 256, on 64x64x3 inputs: the
28x28 grey images resized bilinearly (half-pixel centres, no antialias: what ConvScope's resize does)
and repeated over RGB, then pixels / 255 and (x - 0.2860) / 0.3530 per channel (Fashion-MNIST's mean and
std). At 64x64 the last max-pool leaves 1x1, so the adaptive average pool is to 1x1 (torchvision's 6x6
would only repeat that one value). Writes model.onnx (dynamic batch axis, opset 11) and training.json
(settings, accuracy and the predictions on the first 1000 test images, to check the import against),
both rewritten after every epoch; training stops at TARGET_ACCURACY or MAX_EPOCHS.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DATA = os.environ.get('FASHION_MNIST_DIR', '/usr/share/datasets/fashion-mnist')
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'docs', 'results', 'attribution', 'alexnet-style-fashion')
SIDE = 64
MEAN, STD = 0.2860, 0.3530
TRAIN_IMAGES, MAX_EPOCHS, BATCH, LR = 12000, 6, 32, 1e-3
TARGET_ACCURACY = 0.82  # stops after the first epoch that reaches it on the test images
TEST_IMAGES = 2000
SEED = 15
DROPOUT = 0.1  # torchvision has 0.5; on a 64-wide feature vector that slows a few-epoch training too much


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def to_input(images):
    """uint8 [n, 28, 28] -> float32 [n, 3, SIDE, SIDE], resized, normalised."""
    x = torch.from_numpy(images.astype(np.float32)).unsqueeze(1) / 255.0
    x = F.interpolate(x, size=(SIDE, SIDE), mode='bilinear', align_corners=False)
    return ((x - MEAN) / STD).repeat(1, 3, 1, 1).contiguous()


class AlexNetQuarter(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 48, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(48, 96, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(96, 64, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Dropout(p=DROPOUT), nn.Linear(64, 256), nn.ReLU(inplace=True),
            nn.Dropout(p=DROPOUT), nn.Linear(256, 256), nn.ReLU(inplace=True),
            nn.Linear(256, classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])


def main():
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    start = time.time()
    train_x = to_input(read_idx('train-images-idx3-ubyte.gz')[:TRAIN_IMAGES])
    train_y = torch.from_numpy(read_idx('train-labels-idx1-ubyte.gz')[:TRAIN_IMAGES].astype(np.int64))
    test_x = to_input(read_idx('t10k-images-idx3-ubyte.gz')[:TEST_IMAGES])
    test_y = torch.from_numpy(read_idx('t10k-labels-idx1-ubyte.gz')[:TEST_IMAGES].astype(np.int64))

    model = AlexNetQuarter()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    history = []
    for epoch in range(MAX_EPOCHS):
        model.train()
        order = torch.randperm(TRAIN_IMAGES)
        total = 0.0
        for i in range(0, TRAIN_IMAGES, BATCH):
            idx = order[i:i + BATCH]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        acc = (predict(model, test_x) == test_y).float().mean().item()
        history.append({'epoch': epoch + 1, 'loss': total / TRAIN_IMAGES, 'testAccuracy': acc, 'seconds': round(time.time() - start, 1)})
        print(json.dumps(history[-1]), flush=True)
        save(model, history, test_x, test_y)
        if acc >= TARGET_ACCURACY:
            break


def save(model, history, test_x, test_y):
    os.makedirs(OUT, exist_ok=True)
    model.eval()
    torch.onnx.export(model, test_x[:1], os.path.join(OUT, 'model.onnx'), input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=11)
    first = predict(model, test_x[:1000])
    with open(os.path.join(OUT, 'training.json'), 'w') as f:
        json.dump({
            'script': 'scripts/train-alexnet-style-fashion.py',
            'torch': torch.__version__,
            'seed': SEED,
            'input': [SIDE, SIDE, 3],
            'preprocessing': {'resize': 'bilinear, half-pixel centres', 'mean': MEAN, 'std': STD},
            'trainImages': TRAIN_IMAGES, 'epochs': len(history), 'batch': BATCH, 'optimizer': f'Adam lr {LR}',
            'history': history,
            'testImages': TEST_IMAGES,
            'testAccuracy': history[-1]['testAccuracy'],
            'first1000Accuracy': (first == test_y[:1000]).float().mean().item(),
            'first1000Predictions': first.tolist(),
        }, f)
        f.write('\n')


if __name__ == '__main__':
    main()
