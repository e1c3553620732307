"""A ConvScope run folder, written from PyTorch in the formats ConvScope reads.

config.json, spec.json, preprocess.json, dataset.json, command.json, status.json: JSON.
batch.jsonl, epochs.jsonl, layer-stats.jsonl: one JSON object a line, appended as training goes.
kernels/index.json + kernels/step-NNNNNNNN.f32: every conv kernel (HWIO, float32 little-endian) at a step,
    thinned to a disk budget (every other snapshot dropped, the first and last kept).
checkpoint.bin: magic CSCKPT01, uint32 header length, JSON header, float32 arrays (weights in ConvScope's
    layout, optimizer slots): the one checkpoint both this trainer and ConvScope resume and inspect from.
model/: model.json (TensorFlow.js layers model) + weights.bin, the final model ConvScope opens; initial/: the
    same for the step-0 weights (ConvScope rebuilds its own runs' from the seed, not this trainer's).
Every file but the JSON-lines logs is replaced atomically (temporary file, fsync, rename).
"""
from __future__ import annotations

import json
import os
import secrets
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

# ConvScope removes leftovers with this infix when it resumes a run.
TEMP_INFIX = ".partial-"
CHECKPOINT_MAGIC = b"CSCKPT01"


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}{TEMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2) + "\n").encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


class JsonLines:
    """An append-only log that knows its size, so a resume can cut it back to its checkpoint's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bytes = path.stat().st_size if path.exists() else 0

    def append(self, record: dict) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with open(self.path, "ab") as f:
            f.write(line)
        self.bytes += len(line)

    def truncate_to(self, size: int) -> None:
        if not self.path.exists():
            if size > 0:
                raise RuntimeError(f"{self.path} is missing but the checkpoint expects {size} bytes")
            return
        if self.path.stat().st_size < size:
            raise RuntimeError(f"{self.path} is shorter than the {size} bytes its checkpoint recorded")
        os.truncate(self.path, size)
        self.bytes = size


def remove_torn_files(run_dir: Path) -> None:
    for folder in (run_dir, run_dir / "kernels", run_dir / "model", run_dir / "initial"):
        if folder.is_dir():
            for f in folder.iterdir():
                if TEMP_INFIX in f.name:
                    f.unlink(missing_ok=True)


# ---- weights in ConvScope's layout ----

def tensor_of(net: nn.Module, name: str) -> tuple[torch.Tensor, str]:
    """The torch tensor behind a ConvScope weight name ('conv1/kernel', 'bn1/moving_mean', ...) and its kind."""
    layer_name, weight = name.split("/", 1)
    layer = getattr(net, layer_name)
    if isinstance(layer, nn.BatchNorm2d):
        attr = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}[weight]
        return getattr(layer, attr), "vector"
    if weight == "bias":
        return layer.bias, "vector"
    return layer.weight, "conv" if isinstance(layer, nn.Conv2d) else "dense"


def to_convscope(t: torch.Tensor, kind: str) -> np.ndarray:
    """torch layout -> ConvScope's: conv OIHW -> HWIO, dense [out, in] -> [in, out]."""
    t = t.detach().float().cpu()
    if kind == "conv":
        t = t.permute(2, 3, 1, 0)
    elif kind == "dense":
        t = t.t()
    return np.ascontiguousarray(t.numpy(), dtype="<f4")


def from_convscope(values: np.ndarray, kind: str) -> torch.Tensor:
    t = torch.from_numpy(np.array(values, dtype=np.float32))
    if kind == "conv":
        t = t.permute(3, 2, 0, 1)
    elif kind == "dense":
        t = t.t()
    return t.contiguous()


def weight_arrays(net: nn.Module, names: list[str]) -> list[tuple[str, np.ndarray]]:
    """The model's weights under ConvScope's names, in ConvScope's order and layout."""
    return [(name, to_convscope(*tensor_of(net, name))) for name in names]


def load_weight_arrays(net: nn.Module, arrays: dict[str, np.ndarray], names: list[str]) -> None:
    with torch.no_grad():
        for name in names:
            if name not in arrays:
                raise RuntimeError(f"no weight {name} in the saved weights")
            tensor, kind = tensor_of(net, name)
            value = from_convscope(arrays[name], kind)
            if tuple(value.shape) != tuple(tensor.shape):
                raise RuntimeError(f"weight {name} has shape {tuple(arrays[name].shape)}, the model expects another")
            tensor.copy_(value)


def slot_arrays(net: nn.Module, optimizer_state: dict, names: list[str]) -> list[tuple[str, np.ndarray]]:
    """Optimizer slots keyed 'conv1/kernel/velocity' etc., as ConvScope's optimizers name them."""
    out = []
    for name in names:
        tensor, kind = tensor_of(net, name)
        for slot, value in optimizer_state.get(tensor, {}).items():
            out.append((f"{name}/{slot}", to_convscope(value, kind)))
    return out


# ---- checkpoint.bin ----

def encode_checkpoint(meta: dict, groups: dict[str, list[tuple[str, np.ndarray]]]) -> bytes:
    entries: dict[str, list[dict]] = {}
    offset = 0
    for group, arrays in groups.items():
        entries[group] = []
        for name, a in arrays:
            entries[group].append({"name": name, "shape": list(a.shape), "offset": offset, "length": int(a.size)})
            offset += a.size * 4
    header = json.dumps({"meta": meta, "groups": entries, "dataBytes": offset}, separators=(",", ":"))
    # Spaces pad the header so the float32 data starts 4-byte aligned.
    header += " " * ((4 - (len(CHECKPOINT_MAGIC) + 4 + len(header.encode())) % 4) % 4)
    parts = [CHECKPOINT_MAGIC, struct.pack("<I", len(header.encode())), header.encode()]
    parts += [np.ascontiguousarray(a, dtype="<f4").tobytes() for arrays in groups.values() for _, a in arrays]
    return b"".join(parts)


def read_checkpoint(path: Path) -> tuple[dict, dict[str, dict[str, np.ndarray]]] | None:
    if not path.exists():
        return None
    data = path.read_bytes()
    if data[:8] != CHECKPOINT_MAGIC:
        raise RuntimeError(f"{path} is not a ConvScope checkpoint")
    (length,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + length])
    start = 12 + length
    if len(data) != start + header["dataBytes"]:
        raise RuntimeError(f"{path} is truncated")
    groups = {
        group: {e["name"]: np.frombuffer(data, "<f4", e["length"], start + e["offset"]).reshape(e["shape"]) for e in entries}
        for group, entries in header["groups"].items()
    }
    return header["meta"], groups


# ---- kernel snapshots ----

class KernelSnapshots:
    """kernels/index.json and its .f32 files, in ConvScope's layout and thinning rule."""

    def __init__(self, run_dir: Path, kernels: list[tuple[str, np.ndarray]], budget_bytes: int) -> None:
        self.dir = run_dir / "kernels"
        self.dir.mkdir(parents=True, exist_ok=True)
        layers, offset = [], 0
        for name, a in kernels:
            layers.append({"layer": name, "shape": list(a.shape), "offset": offset, "length": int(a.size)})
            offset += a.size
        self.index = {"format": "float32-le", "layers": layers, "budgetBytes": budget_bytes, "snapshots": []}
        path = self.dir / "index.json"
        if path.exists():
            old = read_json(path)
            if old["layers"] == layers:
                self.index = {**old, "budgetBytes": budget_bytes}

    @property
    def steps(self) -> list[int]:
        return [s["step"] for s in self.index["snapshots"]]

    def add(self, step: int, epoch: int, kernels: list[tuple[str, np.ndarray]]) -> None:
        data = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for _, a in kernels)
        entry = {"step": step, "epoch": epoch, "file": f"step-{step:08d}.f32", "bytes": len(data)}
        write_atomic(self.dir / entry["file"], data)
        self.index["snapshots"] = [s for s in self.index["snapshots"] if s["step"] != step] + [entry]
        dropped = []
        while sum(s["bytes"] for s in self.index["snapshots"]) > self.index["budgetBytes"] and len(self.index["snapshots"]) > 2:
            snaps = self.index["snapshots"]
            keep = set(range(0, len(snaps), 2)) | {len(snaps) - 1}
            dropped += [s for i, s in enumerate(snaps) if i not in keep]
            self.index["snapshots"] = [s for i, s in enumerate(snaps) if i in keep]
        self._write_index()  # the index never names a deleted file: written first, files deleted after
        for s in dropped:
            (self.dir / s["file"]).unlink(missing_ok=True)

    def drop_after(self, step: int) -> None:
        later = [s for s in self.index["snapshots"] if s["step"] > step]
        if later:
            self.index["snapshots"] = [s for s in self.index["snapshots"] if s["step"] <= step]
            self._write_index()
            for s in later:
                (self.dir / s["file"]).unlink(missing_ok=True)

    def _write_index(self) -> None:
        write_atomic(self.dir / "index.json", json.dumps(self.index, indent=1).encode())


# ---- the final model ----

def write_model_folder(folder: Path, topology: dict, weights: list[tuple[str, np.ndarray]], metadata: dict) -> None:
    """model/model.json + model/weights.bin as TensorFlow.js saves a layers model (weights first)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "weights.bin", b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for _, a in weights))
    model_json = {
        "modelTopology": topology,
        "format": "layers-model",
        "generatedBy": "ConvScope PyTorch export",
        "convertedBy": None,
        "weightsManifest": [{"paths": ["weights.bin"], "weights": [{"name": n, "shape": list(a.shape), "dtype": "float32"} for n, a in weights]}],
        "userDefinedMetadata": metadata,
    }
    write_atomic(folder / "model.json", json.dumps(model_json).encode())


def read_model_folder(folder: Path) -> dict[str, np.ndarray]:
    """The weights of a ConvScope model folder (e.g. another run's model/, to start from the same weights)."""
    model_json = read_json(folder / "model.json")
    out: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        data = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w["dtype"] != "float32":
                raise RuntimeError(f"weight {w['name']} is {w['dtype']}, not float32")
            n = int(np.prod(w["shape"]))
            out[w["name"]] = np.frombuffer(data, "<f4", n, offset).reshape(w["shape"])
            offset += 4 * n
    return out
