#!/usr/bin/python3
"""Writes tests/fixtures/import/alexnet-torchvision-zoo.{onnx,expected.json} with PyTorch (python3-torch 1.13).

Run with Debian's interpreter: /usr/bin/python3 scripts/make-torchvision-alexnet-fixture.py

The network is torchvision.models.alexnet's code (features / AdaptiveAvgPool2d((6, 6)) / classifier with
dropout before each hidden Linear, logits out) with every conv and hidden width multiplied by 1/16 and 10
classes: what the zoo's `alexnet-torchvision` builds with width=0.0625, classes=10 (torchvision itself is
not needed). Input 224x224 as torchvision's, where the adaptive pool is the identity. Weights, inputs,
export settings and the recorded outputs come from make-onnx-fixtures.py, which this script reuses.
"""
import importlib.util
import json
import os

import torch
from torch import nn

_spec = importlib.util.spec_from_file_location('fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-onnx-fixtures.py'))
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

WIDTH = 1 / 16
CLASSES = 10


def w(n):
    return round(n * WIDTH)


class AlexNet(nn.Module):
    """torchvision/models/alexnet.py (torchvision 0.14), widths scaled."""

    def __init__(self, num_classes=CLASSES, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, w(64), kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(w(64), w(192), kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(w(192), w(384), kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(w(384), w(256), kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(w(256), w(256), kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(w(256) * 6 * 6, w(4096)), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(w(4096), w(4096)), nn.ReLU(inplace=True),
            nn.Linear(w(4096), num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def main():
    torch.set_num_threads(1)
    # Eval-mode export drops the Dropout nodes: the zoo match records dropout 0 (identical at inference).
    name, seed = 'alexnet-torchvision-zoo', 4
    fixtures.export(name, AlexNet(), [3, 224, 224], seed=seed,
                    zoo={'id': 'alexnet-torchvision', 'options': {'width': WIDTH, 'classes': CLASSES, 'dropout': 0}})
    path = os.path.join(fixtures.OUT, f'{name}.expected.json')
    with open(path) as f:
        expected = json.load(f)
    expected['made_by'] = f'scripts/make-torchvision-alexnet-fixture.py with torch {torch.__version__}, seed {seed}'
    with open(path, 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
