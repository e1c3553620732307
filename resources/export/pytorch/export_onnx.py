#!/usr/bin/env python3
"""Writes a run's latest checkpoint (or its final model) as ONNX, the way PyTorch users exchange models.

    python3 DIR/export_onnx.py --run-dir RUN [--from-model] [--out FILE]     (default RUN/model.onnx)

`convscope import FILE` maps it back onto the zoo model with these weights. The graph is plain PyTorch:
NCHW, flattened in channel-height-width order (the first dense layer's columns are permuted to match), the
paper's LRN as ONNX's LRN operator (alpha given per window, alpha * n, as ONNX and Caffe define it), logits
out. Preprocessing is not part of an ONNX graph: pass it to `convscope import --preprocess` if needed, or
open RUN/model directly, which keeps it.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import sys
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import runfolder as rf  # noqa: E402
from model import FlattenHWC, LocalResponseNorm, Net  # noqa: E402


class _OnnxLrn(torch.autograd.Function):
    """ONNX's LRN operator in the exported graph. Only traced, never trained: its forward just carries the
    shape (LRN keeps it); tracing LocalResponseNorm's own ops inside a Function trips torch 1.13's exporter."""

    @staticmethod
    def forward(ctx, x, depth_radius: int, bias: float, alpha: float, beta: float):
        return x.clone()

    @staticmethod
    def symbolic(g, x, depth_radius: int, bias: float, alpha: float, beta: float):
        size = 2 * depth_radius + 1
        return g.op("LRN", x, size_i=size, alpha_f=alpha * size, beta_f=beta, bias_f=bias)


class OnnxLrn(nn.Module):
    def __init__(self, layer: LocalResponseNorm) -> None:
        super().__init__()
        self.params = (layer.depth_radius, layer.bias, layer.alpha, layer.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _OnnxLrn.apply(x, *self.params)


def nchw_flatten(net: Net, spec: dict) -> Net:
    """A copy computing the same function with torch's usual flatten: the next dense layer's columns reordered."""
    net = copy.deepcopy(net)
    layers = spec["layers"]
    for i, layer in enumerate(layers):
        module = getattr(net, layer["name"])
        if isinstance(module, LocalResponseNorm):
            setattr(net, layer["name"], OnnxLrn(module))
        if not isinstance(module, FlattenHWC):
            continue
        setattr(net, layer["name"], nn.Flatten())
        shape = spec_shape_before(spec, i)
        dense = next(getattr(net, l["name"]) for l in layers[i + 1:] if l["kind"] == "dense")
        h, w, c = shape
        with torch.no_grad():
            weight = dense.weight.reshape(-1, h, w, c).permute(0, 3, 1, 2).reshape(dense.weight.shape[0], -1)
            dense.weight.copy_(weight)
    return net


def spec_shape_before(spec: dict, index: int) -> tuple[int, int, int]:
    """The height, width, channels reaching layer `index`, from a forward pass of a zero input."""
    probe = Net(classes=spec["classes"]).eval()
    h, w, c = spec["input"]
    shape = {}
    name = spec["layers"][index]["name"]
    hook = getattr(probe, name).register_forward_pre_hook(lambda _m, inputs: shape.update(x=inputs[0].shape))
    with torch.no_grad():
        probe(torch.zeros(1, c, h, w))
    hook.remove()
    _, channels, height, width = shape["x"]
    return height, width, channels


def with_metadata(onnx: bytes, props: dict[str, str]) -> bytes:
    """ONNX bytes with metadata_props entries appended (ModelProto field 14; protobuf fields may come in any order)."""

    def varint(n: int) -> bytes:
        out = b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    return onnx + b"".join(field(14, field(1, k.encode()) + field(2, v.encode())) for k, v in props.items())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--from-model", action="store_true", help="the final model (RUN/model) instead of the latest checkpoint")
    p.add_argument("--out", help="the .onnx file (default RUN/model.onnx)")
    args = p.parse_args()
    run_dir = Path(args.run_dir)
    spec = rf.read_json(run_dir / "spec.json")
    names = [w["name"] for g in rf.read_json(run_dir / "model" / "model.json")["weightsManifest"] for w in g["weights"]] \
        if args.from_model else None
    if args.from_model:
        arrays = rf.read_model_folder(run_dir / "model")
    else:
        found = rf.read_checkpoint(run_dir / "checkpoint.bin")
        if found is None:
            raise SystemExit(f"{run_dir} has no checkpoint.bin")
        arrays = found[1]["weights"]
        names = list(arrays)
    net = Net(classes=spec["classes"]).eval()
    rf.load_weight_arrays(net, arrays, names)
    out = Path(args.out) if args.out else run_dir / "model.onnx"
    h, w, c = spec["input"]
    buffer = io.BytesIO()
    torch.onnx.export(nchw_flatten(net, spec), torch.zeros(1, c, h, w), buffer, input_names=["input"], output_names=["logits"],
                      opset_version=13, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    # What `convscope import` reads back: the zoo spec and the run's preprocessing (pixels in RGB order).
    props = {"convscope.spec": json.dumps(spec)}
    if (run_dir / "preprocess.json").exists():
        props["convscope.preprocess"] = json.dumps(rf.read_json(run_dir / "preprocess.json"))
    rf.write_atomic(out, with_metadata(buffer.getvalue(), props))
    print(json.dumps({"onnx": str(out), "model": spec["id"], "step": None if args.from_model else found[0]["position"]["globalStep"]}))


if __name__ == "__main__":
    main()
