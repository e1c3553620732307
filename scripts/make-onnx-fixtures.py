#!/usr/bin/python3
"""Writes the ONNX import fixtures in tests/fixtures/import/ with PyTorch (Debian's python3-torch 1.13).

Run with Debian's interpreter: /usr/bin/python3 scripts/make-onnx-fixtures.py
(the `onnx` Python package is not needed: torch.onnx.export writes the protobuf itself).

Three small networks with fixed seeds, exported in eval mode, each with PyTorch's outputs for a
batch of inputs that the tests rebuild from the same formula (no input files are committed):
  alexnet-torchvision-small  torchvision's AlexNet layout (conv1 pad 2, adaptive avg-pool to 6x6,
                             dropout before the FC layers, logits out), widths 8-24-48-32-32, fc 128
  alexnet-grouped-small      BVLC AlexNet's layout (conv2/4/5 in 2 groups, no padding on conv1,
                             softmax out) at 1/16 of its widths, without LRN
  lenet5                     the zoo's LeNet-5 (tanh, 2x2 max-pool, dense 120-84-10 softmax),
                             flattened with x.view(x.size(0), -1) so the export has a shape subgraph
LRN is left out: torch exports it as a Pad/AvgPool/Pow/Div chain (the tests write real LRN nodes).
"""
import json
import math
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'import')
BATCH = 2


def formula_input(shape):
    """x[i] = sin(0.37 * i + 0.5) * cos(0.011 * i), i the flat NCHW index; the tests compute the same."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    x = torch.sin(0.37 * i + 0.5) * torch.cos(0.011 * i)
    return x.to(torch.float32).reshape(shape)


class TorchvisionAlexNetSmall(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(8, 24, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(24, 48, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(48, 32, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5), nn.Linear(32 * 6 * 6, 128), nn.ReLU(inplace=True),
            nn.Dropout(p=0.5), nn.Linear(128, 128), nn.ReLU(inplace=True),
            nn.Linear(128, classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class GroupedAlexNetSmall(nn.Module):
    """BVLC AlexNet at 1/16 width: what the zoo's `alexnet` builds with width=0.0625, lrn=false, dropout=0."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, kernel_size=11, stride=4), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(6, 16, kernel_size=5, padding=2, groups=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 24, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(24, 24, kernel_size=3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(24, 16, kernel_size=3, padding=1, groups=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 6 * 6, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, classes), nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.tanh(self.conv1(x)))
        x = self.pool(torch.tanh(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.softmax(self.fc3(x), dim=1)


def randomize(model, seed):
    """Seeded weights with a spread that keeps every layer's activations alive (default init is fine for
    the convs; biases get noise too so that a missing or misplaced bias shows in the outputs)."""
    torch.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_in))
            nn.init.normal_(module.bias, 0.0, 0.1)


def export(name, model, input_shape, seed, zoo=None):
    randomize(model, seed)
    model.eval()
    x = formula_input([BATCH, *input_shape])
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, f'{name}.onnx')
    torch.onnx.export(model, x[:1], path, input_names=['input'], output_names=['output'], opset_version=13,
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
    expected = {
        'model': f'{name}.onnx',
        'made_by': f'scripts/make-onnx-fixtures.py with torch {torch.__version__}, seed {seed}',
        'input_shape_nchw': [BATCH, *input_shape],
        'input_formula': 'x[i] = float32(sin(0.37 * i + 0.5) * cos(0.011 * i)), i the flat NCHW index',
        'output_shape': list(y.shape),
        'output': [round(float(v), 9) for v in y.flatten()],
        'zoo': zoo,
    }
    with open(os.path.join(OUT, f'{name}.expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print(f'{name}: {os.path.getsize(path)} bytes, output {list(y.shape)}')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    export('alexnet-torchvision-small', TorchvisionAlexNetSmall(), [3, 224, 224], seed=1)
    export('alexnet-grouped-small', GroupedAlexNetSmall(), [3, 227, 227], seed=2,
           zoo={'id': 'alexnet', 'options': {'width': 0.0625, 'lrn': False, 'dropout': 0, 'classes': 10}})
    export('lenet5', LeNet5(), [1, 28, 28], seed=3, zoo={'id': 'lenet5', 'options': {}})


if __name__ == '__main__':
    main()
