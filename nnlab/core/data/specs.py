"""What each dataset's canonical files are: names, md5 sums, sizes and where they live.

The file names and md5 sums come from torchvision's own dataset classes, so nnlab checks
exactly what torchvision's downloader would fetch. The sizes are those of the published
files; anything larger is not one of them and is refused before it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nnlab.errors import NnlabError

DATASET_NAMES = ("mnist", "fashion-mnist", "cifar10")

# bytes of each published archive (what `data import` and the downloader may copy)
ARCHIVE_SIZES = {
    "mnist": {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,
              "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542},
    "fashion-mnist": {"train-images-idx3-ubyte.gz": 26_421_880, "train-labels-idx1-ubyte.gz": 29_515,
                      "t10k-images-idx3-ubyte.gz": 4_422_102, "t10k-labels-idx1-ubyte.gz": 5_148},
    "cifar10": {"cifar-10-python.tar.gz": 170_498_071},
}


@dataclass(frozen=True)
class ArchiveSpec:
    """The canonical files of one dataset, relative to the data directory."""

    name: str  # nnlab's name for it
    folder: str  # sub-folder of the data dir torchvision uses
    files: tuple[tuple[str, str], ...]  # (file name, md5)
    sizes: dict[str, int] = field(default_factory=dict)  # file name -> published size in bytes

    def path(self, data_dir: Path, filename: str) -> Path:
        """Where `filename` belongs under `data_dir`."""
        return data_dir / self.folder / filename

    def size_ok(self, filename: str, size: int) -> bool:
        """Whether `size` bytes can be the published `filename` (True when its size is unknown)."""
        return self.sizes.get(filename, size) == size


def archive_spec(name: str) -> ArchiveSpec:
    """The spec for `name` (mnist, fashion-mnist or cifar10)."""
    from torchvision import datasets  # heavy: import only when data is touched

    if name == "mnist":
        files, folder = tuple(datasets.MNIST.resources), "MNIST/raw"
    elif name == "fashion-mnist":
        files, folder = tuple(datasets.FashionMNIST.resources), "FashionMNIST/raw"
    elif name == "cifar10":
        files, folder = ((datasets.CIFAR10.filename, datasets.CIFAR10.tgz_md5),), "."
    else:
        raise NnlabError(f"unknown dataset '{name}'; choose one of {', '.join(DATASET_NAMES)}")
    return ArchiveSpec(name, folder, files, dict(ARCHIVE_SIZES[name]))


def download_urls(name: str, filename: str) -> list[str]:
    """Where torchvision downloads `filename` of dataset `name` from, mirrors in order."""
    from torchvision import datasets

    if name == "cifar10":
        return [datasets.CIFAR10.url]
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    return [f"{mirror}{filename}" for mirror in cls.mirrors]
