#!/usr/bin/python3
"""Writes the PyTorch-export import fixtures in tests/fixtures/import/ (issue 17, section 5).

Run with Debian's interpreter: /usr/bin/python3 scripts/make-pytorch-export-fixtures.py
(python3-torch 1.13 and python3-onnx; onnx is needed only to move weights into an external data file).

Each is a small seeded network exported in eval mode the way people export, with PyTorch's outputs
for the formula input of scripts/make-onnx-fixtures.py (the tests rebuild it; no input files):
  lenet5-avgpool        the classic LeNet-5 with nn.AvgPool2d (torch puts an all-zero Pad before
                        each AveragePool) and an nn.AvgPool2d(3, 1, padding=1) (count_include_pad)
  densenet-small        DenseNet-style: BN-ReLU-conv layers concatenated, a transition with a default
                        nn.AvgPool2d(2), then BN-ReLU, global average pool, linear
  mobilenet-relu6       MobileNetV2-style blocks: conv + BN + ReLU6 (Clip), depthwise conv,
                        inverted residual (Add), global average pool, linear
  dilated               convolutions with dilation 2 (padded and not)
  external-data         a small CNN saved with its weights in external-data.onnx.data
  static-batch8         exported with a fixed batch of 8 and x.view(x.size(0), -1): refused
  alexnet-paper-small   BVLC AlexNet's layout (LRN, conv2/4/5 in 2 groups) at 1/16 width, exported
                        from PyTorch (LRN as an ONNX LRN node): torchvision preprocessing, not Caffe's
  lrn-opset9/11/13/17   conv + ReLU + nn.LocalResponseNorm (torch writes it as Mul, Unsqueeze, Reshape, Pad,
                        AveragePool, Squeeze or If, Reshape, Mul, Add, Pow, Div), twice with different
                        constants (alphas large enough that a wrong alpha or window shows), exported at
                        opsets 9, 11, 13 and 17, with and without constant folding, dynamic and static batch
  lrn-even-size         nn.LocalResponseNorm(4): torch's window is then 2 channels before and 1 after, which
                        ConvScope's (symmetric) LRN cannot compute: refused
  alexnet-paper-torchlrn  the paper's AlexNet at 1/16 width and a 67x67 input written in plain PyTorch:
                        nn.LocalResponseNorm(5, 1e-4, 0.75, 2), overlapping max pools, groups=2 convs
  mnist-01              a 1-channel MNIST-style CNN trained (here, on synthetic strokes) on pixels
                        scaled to 0-1; its expected outputs are for a 28x28 grey image given as
                        bytes, scaled to 0-1 and normalised with mean 0.1307 / std 0.3081
"""
import importlib.util
import json
import math
import os

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'tests', 'fixtures', 'import')
BATCH = 2

_spec = importlib.util.spec_from_file_location('onnx_fixtures', os.path.join(HERE, 'make-onnx-fixtures.py'))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)
formula_input = _base.formula_input


class LeNet5AvgPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool = nn.AvgPool2d(2)
        self.smooth = nn.AvgPool2d(3, stride=1, padding=1)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.tanh(self.conv1(x)))
        x = self.pool(torch.tanh(self.conv2(self.smooth(x))))
        x = torch.flatten(x, 1)
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


class DenseLayer(nn.Module):
    def __init__(self, c_in, growth):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, growth, 3, padding=1, bias=False))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


class DenseNetSmall(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.block = nn.Sequential(DenseLayer(8, 4), DenseLayer(12, 4))
        self.transition = nn.Sequential(nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 8, 1, bias=False), nn.AvgPool2d(2))
        self.head = nn.Sequential(nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = self.head(self.transition(self.block(self.stem(x))))
        return self.fc(torch.flatten(x, 1))


def conv_bn(c_in, c_out, k, stride=1, groups=1, relu6=True):
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if relu6 else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, c, expand):
        super().__init__()
        h = c * expand
        self.block = nn.Sequential(conv_bn(c, h, 1), conv_bn(h, h, 3, groups=h), conv_bn(h, c, 1, relu6=False))

    def forward(self, x):
        return x + self.block(x)


class MobileNetRelu6(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, stride=2), InvertedResidual(8, 3), conv_bn(8, 16, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(16, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


class Dilated(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=2, dilation=2)
        self.conv2 = nn.Conv2d(8, 8, 3, dilation=2)
        self.conv3 = nn.Conv2d(8, 4, 3, padding=(1, 3), dilation=(1, 3))
        self.fc = nn.Linear(4 * 16 * 16, classes)

    def forward(self, x):
        x = F.relu(self.conv3(F.relu(self.conv2(F.relu(self.conv1(x))))))
        return self.fc(torch.flatten(x, 1))


class SmallCnn(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 8 * 8, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.view(x.size(0), -1))


class LrnFn(torch.autograd.Function):
    """nn.LocalResponseNorm, exported as one ONNX LRN node (torch writes it as a Pad/AvgPool/Pow/Div chain)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op('LRN', x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class Lrn(nn.Module):
    def forward(self, x):
        return LrnFn.apply(x, 5, 1e-4, 0.75, 2.0)


class PaperAlexNetSmall(nn.Module):
    """The paper's AlexNet at 1/16 width (the zoo's `alexnet` with width=0.0625): LRN after conv1 and conv2."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, kernel_size=11, stride=4), nn.ReLU(), Lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(6, 16, kernel_size=5, padding=2, groups=2), nn.ReLU(), Lrn(),
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


class LrnSmall(nn.Module):
    """Two nn.LocalResponseNorm with different sizes and constants, so that each one's mapping is checked."""

    def __init__(self, classes=6):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.lrn1 = nn.LocalResponseNorm(5, alpha=0.3, beta=0.75, k=2.0)
        self.conv2 = nn.Conv2d(8, 7, 3)
        self.lrn2 = nn.LocalResponseNorm(3, alpha=1.0, beta=0.6, k=1.0)
        self.fc = nn.Linear(7 * 4 * 4, classes)

    def forward(self, x):
        x = F.max_pool2d(self.lrn1(F.relu(self.conv1(x))), 2)
        x = self.lrn2(F.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class LrnEven(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.lrn = nn.LocalResponseNorm(4, alpha=0.3, beta=0.75, k=2.0)
        self.fc = nn.Linear(6 * 6 * 6, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.lrn(F.relu(self.conv(x))), 1))


class PaperAlexNetTorchLrn(nn.Module):
    """The paper's AlexNet at 1/16 width for 67x67 inputs, with torch's own nn.LocalResponseNorm."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, kernel_size=11, stride=4), nn.ReLU(), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(6, 16, kernel_size=5, padding=2, groups=2), nn.ReLU(), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 24, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(24, 24, kernel_size=3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(24, 16, kernel_size=3, padding=1, groups=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 1 * 1, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class MnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.view(x.size(0), -1))


def randomize(model, seed):
    """Seeded weights with a spread that keeps activations alive; biases and BN statistics get noise too."""
    torch.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_in))
            if module.bias is not None:
                nn.init.normal_(module.bias, 0.0, 0.1)
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, 0.0, 0.2)
            module.running_mean.normal_(0.0, 0.2)
            module.running_var.uniform_(0.5, 2.0)


def write_expected(name, input_shape, seed, outputs, extra=None):
    expected = {
        'model': f'{name}.onnx',
        'made_by': f'scripts/make-pytorch-export-fixtures.py with torch {torch.__version__}, seed {seed}',
        'input_shape_nchw': [BATCH, *input_shape],
        'input_formula': 'x[i] = float32(sin(0.37 * i + 0.5) * cos(0.011 * i)), i the flat NCHW index',
        **outputs,
        **(extra or {}),
    }
    with open(os.path.join(OUT, f'{name}.expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


def rounded(y):
    return [round(float(v), 9) for v in y.flatten()]


def export(name, model, input_shape, seed, export_batch=1, dynamic=True, opset=13, extra=None, folding=True):
    randomize(model, seed)
    model.eval()
    x = formula_input([BATCH, *input_shape])
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, f'{name}.onnx')
    example = formula_input([export_batch, *input_shape])
    kwargs = {'dynamic_axes': {'input': {0: 'batch'}, 'output': {0: 'batch'}}} if dynamic else {}
    torch.onnx.export(model, example, path, input_names=['input'], output_names=['output'], opset_version=opset,
                      do_constant_folding=folding, **kwargs)
    write_expected(name, input_shape, seed, {'output_shape': list(y.shape), 'output': rounded(y)}, extra)
    print(f'{name}: {os.path.getsize(path)} bytes, output {list(y.shape)}')
    return path


def with_external_data(path):
    import onnx
    model = onnx.load(path)
    data = os.path.basename(path) + '.data'
    if os.path.exists(os.path.join(OUT, data)):
        os.remove(os.path.join(OUT, data))  # onnx appends to an existing data file
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=0)
    print(f'  weights moved to {data}: {os.path.getsize(os.path.join(OUT, data))} bytes')


def strokes(n, generator):
    """Synthetic 28x28 'digits' in 0-1: class k is a bright bar at angle k*18 degrees through a jittered centre."""
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing='ij')
    labels = torch.randint(0, 10, (n,), generator=generator)
    images = torch.zeros(n, 1, 28, 28)
    for i in range(n):
        angle = math.radians(float(labels[i]) * 18.0)
        cy, cx = 14 + torch.randn(2, generator=generator) * 2
        dist = (xs - cx) * math.sin(angle) - (ys - cy) * math.cos(angle)
        images[i, 0] = torch.clamp(1.5 - dist.abs(), 0, 1)
    return images, labels


def mnist_grey_bytes():
    """The 28x28 test image, one byte per pixel: v[i] = (i * 37 + (i // 28) * 11) % 256; the test writes it as a PNG."""
    i = torch.arange(28 * 28)
    return ((i * 37 + (i // 28) * 11) % 256).to(torch.float32).reshape(1, 1, 28, 28)


def mnist(seed=7):
    torch.manual_seed(seed)
    model = MnistCnn()
    generator = torch.Generator().manual_seed(seed)
    images, labels = strokes(512, generator)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(4):
        for start in range(0, len(images), 64):
            optimiser.zero_grad()
            loss = F.cross_entropy(model(images[start:start + 64]), labels[start:start + 64])
            loss.backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(images).argmax(1) == labels).float().mean())
        v = mnist_grey_bytes()
        scaled = model(v / 255)
        normalised = model((v / 255 - 0.1307) / 0.3081)
    name = 'mnist-01'
    path = os.path.join(OUT, f'{name}.onnx')
    torch.onnx.export(model, v / 255, path, input_names=['input'], output_names=['output'], opset_version=13,
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
    expected = {
        'model': f'{name}.onnx',
        'made_by': f'scripts/make-pytorch-export-fixtures.py with torch {torch.__version__}, seed {seed}; '
                   f'trained 4 epochs on 512 synthetic 0-1 images (train accuracy {accuracy:.3f})',
        'image_formula': 'a 28x28 grey image, byte v[i] = (i * 37 + floor(i / 28) * 11) % 256, i = y * 28 + x',
        'output_scaled': rounded(scaled),
        'output_normalised': rounded(normalised),
        'normalise': {'mean': 0.1307, 'std': 0.3081},
    }
    with open(os.path.join(OUT, f'{name}.expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print(f'{name}: {os.path.getsize(path)} bytes, train accuracy {accuracy:.3f}')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    export('lenet5-avgpool', LeNet5AvgPool(), [1, 28, 28], seed=11)
    export('densenet-small', DenseNetSmall(), [3, 16, 16], seed=17)
    export('mobilenet-relu6', MobileNetRelu6(), [3, 32, 32], seed=12)
    export('dilated', Dilated(), [3, 20, 20], seed=13)
    with_external_data(export('external-data', SmallCnn(), [3, 16, 16], seed=14))
    export('static-batch8', SmallCnn(), [3, 16, 16], seed=15, export_batch=8, dynamic=False)
    export('alexnet-paper-small', PaperAlexNetSmall(), [3, 227, 227], seed=16,
           extra={'zoo': {'id': 'alexnet', 'options': {'width': 0.0625, 'dropout': 0, 'classes': 10}}})
    for opset, folding, dynamic in [(9, True, True), (11, False, True), (13, True, False), (17, False, False)]:
        export(f'lrn-opset{opset}', LrnSmall(), [3, 12, 12], seed=18, opset=opset, folding=folding, dynamic=dynamic,
               extra={'export': {'opset': opset, 'do_constant_folding': folding, 'dynamic_batch': dynamic}})
    export('lrn-even-size', LrnEven(), [3, 8, 8], seed=20)
    export('alexnet-paper-torchlrn', PaperAlexNetTorchLrn(), [3, 67, 67], seed=19,
           extra={'zoo': {'id': 'alexnet', 'options': {'input': '67x67x3', 'width': 0.0625, 'dropout': 0, 'classes': 10}}})
    mnist()


if __name__ == '__main__':
    main()
