"""What each dataset's canonical files are: names, md5 sums, sizes, classes and where they live.

The file names, md5 sums, mirrors and class names are those torchvision's own MNIST,
FashionMNIST and CIFAR10 classes declare (tests/core/data/test_specs.py holds them equal), so
nnlab checks exactly what torchvision's downloader would fetch, without importing torchvision
(seconds of start-up) just to read a folder. The sizes are those of the published files;
anything larger is not one of them and is refused before it is read.
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
# (file name, md5) of each published archive, in torchvision's order
FILES = {
    "mnist": (("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
              ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
              ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
              ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
    "fashion-mnist": (("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                      ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                      ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                      ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
    "cifar10": (("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
}
FOLDERS = {"mnist": "MNIST/raw", "fashion-mnist": "FashionMNIST/raw", "cifar10": "."}  # torchvision's layout
# where torchvision downloads from: MNIST-format mirrors (a file name is appended), CIFAR's one URL
MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
IDX_CLASSES = {
    "mnist": ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
              "8 - eight", "9 - nine"),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
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
    if name not in FILES:
        raise NnlabError(f"unknown dataset '{name}'; choose one of {', '.join(DATASET_NAMES)}")
    return ArchiveSpec(name, FOLDERS[name], FILES[name], dict(ARCHIVE_SIZES[name]))


def download_urls(name: str, filename: str) -> list[str]:
    """Where torchvision downloads `filename` of dataset `name` from, mirrors in order."""
    if name == "cifar10":
        return [CIFAR10_URL]
    return [f"{mirror}{filename}" for mirror in MIRRORS[name]]
