"""Datasets as resident uint8 tensors, and batches by indexing a permutation.

A split is loaded once through torchvision's readers, kept whole as one uint8 tensor of
shape (N, C, H, W) on the training device, and batched by slicing a shuffled index; the
conversion to float (and any augmentation) happens per batch, on the device.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import torch

from nnlab.core.archives import archive_spec, default_data_dir, gunzip_atomic
from nnlab.errors import DataUnavailable, NnlabError

DOWNLOAD_TIMEOUT_S = 10  # per connection; offline machines fail fast, slow links still work

Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Split:
    """One split of a dataset: images (N, C, H, W) uint8 and labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> "Split":
        """The same split on `device` (a no-op when it is there already)."""
        return Split(self.images.to(device), self.labels.to(device))

    def subset(self, index: torch.Tensor) -> "Split":
        """The examples at `index`."""
        return Split(self.images[index], self.labels[index])


@dataclass
class Dataset:
    """A dataset's train and test splits plus where they came from."""

    name: str  # what was loaded: mnist, fashion-mnist, digits, cifar10
    train: Split
    test: Split
    classes: list[str]
    source: str  # the directory read, or "embedded"
    fallback_reason: str | None = None  # set when `digits` stood in for MNIST

    def to(self, device: torch.device | str) -> "Dataset":
        """Both splits moved to `device` once, for the whole run."""
        return replace(self, train=self.train.to(device), test=self.test.to(device))


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]; the default per-batch transform."""
    return images.float().div_(255.0)


class Batches:
    """Iterate over a resident split in mini-batches, reshuffled every pass.

    `generator` (a CPU torch.Generator) makes the order reproducible; the permutation is
    drawn on the CPU and moved to the data's device, so no per-sample work happens.
    """

    def __init__(self, split: Split, batch_size: int, *, shuffle: bool = True,
                 generator: torch.Generator | None = None, transform: Transform = to_float,
                 drop_last: bool = False):
        if batch_size < 1:
            raise NnlabError(f"batch size must be at least 1, got {batch_size}")
        self.split = split
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.transform = transform
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.split)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.split)
        device = self.split.images.device
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(device)
        else:
            order = torch.arange(n, device=device)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.transform(self.split.images[idx]), self.split.labels[idx]


# ---- loading ---------------------------------------------------------------------------

def offline() -> bool:
    """True when $NNLAB_OFFLINE asks nnlab never to try the network (tests set it)."""
    return os.environ.get("NNLAB_OFFLINE", "").lower() not in ("", "0", "false", "no")


def _missing_message(name: str, data_dir: Path, why: str) -> str:
    spec = archive_spec(name)
    files = ", ".join(f for f, _ in spec.files)
    return (f"{name} not found in {data_dir / spec.folder} ({why}); expected {files}. "
            f"Fix: copy them there with `nnlab data import PATH`, or pass --data-dir DIR")


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def _idx_root(name: str, data_dir: Path, download: bool) -> Path:
    """A root torchvision's MNIST-style reader accepts: every raw file present, uncompressed.

    A folder holding only the canonical .gz archives works: they are decompressed next to
    themselves, or into nnlab's cache when the folder is read-only.
    """
    spec = archive_spec(name)
    raw = [f.removesuffix(".gz") for f, _ in spec.files]
    folder = data_dir / spec.folder
    if all((folder / f).exists() for f in raw):
        return data_dir
    available = all((folder / f).exists() or (folder / f"{f}.gz").exists() for f in raw)
    if not available:
        _download(name, data_dir, download)
        return data_dir
    root = data_dir if _writable(folder) else _extraction_root(data_dir)
    (root / spec.folder).mkdir(parents=True, exist_ok=True)
    for f in raw:
        target = root / spec.folder / f
        if target.exists():
            continue
        if (folder / f).exists():
            target.write_bytes((folder / f).read_bytes())
        else:
            gunzip_atomic(folder / f"{f}.gz", target)
    return root


def _extraction_root(data_dir: Path) -> Path:
    """A cache folder, one per read-only data dir, to hold its decompressed files."""
    key = hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return default_data_dir(None) / "extracted" / key


def _download(name: str, data_dir: Path, download: bool) -> None:
    from torchvision import datasets

    if not download or offline():
        raise DataUnavailable(_missing_message(name, data_dir, "downloads are off"))
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        # torchvision reports progress on stdout, which belongs to --json output
        with contextlib.redirect_stdout(sys.stderr):
            cls(str(data_dir), train=True, download=True)
    except Exception as exc:  # any network or disk failure means the same to the user
        raise DataUnavailable(_missing_message(name, data_dir, f"download failed: {exc}")) from None
    finally:
        socket.setdefaulttimeout(previous)


def _load_idx(name: str, data_dir: Path, download: bool) -> Dataset:
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    root = _idx_root(name, data_dir, download)
    splits = []
    for train in (True, False):
        try:
            ds = cls(str(root), train=train, download=False)
            images, labels = ds.data, ds.targets
            if images.ndim != 3 or len(images) != len(labels) or len(labels) == 0:
                raise ValueError(f"{len(images)} images but {len(labels)} labels")
        except (RuntimeError, ValueError, OSError, AssertionError) as exc:
            folder = root / archive_spec(name).folder
            raise NnlabError(
                f"{name} files in {folder} are corrupt or truncated ({exc}); delete them and "
                "import good copies with `nnlab data import PATH`"
            ) from None
        splits.append(Split(images.unsqueeze(1).contiguous(), labels.long()))
    return Dataset(name, splits[0], splits[1], list(cls.classes), str(data_dir))


def _load_digits(name: str, data_dir: Path, download: bool) -> Dataset:
    from nnlab.core.digits import load_digits_28

    return load_digits_28()


def _load_cifar10(name: str, data_dir: Path, download: bool) -> Dataset:
    from nnlab.core.cifar import load_cifar10  # imports this module: import it on first use

    return load_cifar10(name, data_dir, download)


LOADERS: dict[str, Callable[[str, Path, bool], Dataset]] = {
    "mnist": _load_idx,
    "fashion-mnist": _load_idx,
    "digits": _load_digits,
    "cifar10": _load_cifar10,
}


def load_dataset(name: str, data_dir: str | Path | None = None, *, device: torch.device | str = "cpu",
                 download: bool = True, fallback: bool = False) -> Dataset:
    """Load `name` whole onto `device`.

    With `fallback`, MNIST that cannot be had (absent and not downloadable) is replaced by
    the embedded `digits` set, and `fallback_reason` says why; corrupt files still raise.
    """
    if name not in LOADERS:
        raise NnlabError(f"unknown dataset '{name}'; choose one of {', '.join(LOADERS)}")
    folder = default_data_dir(data_dir)
    try:
        dataset = LOADERS[name](name, folder, download)
    except DataUnavailable as exc:
        if not (fallback and name == "mnist"):
            raise
        dataset = _load_digits("digits", folder, False)
        dataset.fallback_reason = exc.message
    return dataset.to(device)
