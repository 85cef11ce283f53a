"""The canonical files nnlab declares are torchvision's, and reading a dataset needs no torchvision."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from idx import idx_bytes, write_idx_dataset
from nnlab.core.data import specs
from nnlab.core.data.idx import IdxFile, read_idx
from nnlab.errors import NnlabError

datasets = pytest.importorskip("torchvision.datasets")
CLASSES = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_idx_files_mirrors_and_classes_are_torchvisions(name):
    cls = CLASSES[name]
    spec = specs.archive_spec(name)
    assert spec.files == tuple(tuple(r) for r in cls.resources)
    assert specs.download_urls(name, "x.gz") == [f"{mirror}x.gz" for mirror in cls.mirrors]
    assert list(specs.IDX_CLASSES[name]) == list(cls.classes)


def test_cifar_archive_and_url_are_torchvisions():
    spec = specs.archive_spec("cifar10")
    assert spec.files == ((datasets.CIFAR10.filename, datasets.CIFAR10.tgz_md5),)
    assert specs.download_urls("cifar10", datasets.CIFAR10.filename) == [datasets.CIFAR10.url]


def test_loading_mnist_does_not_import_torchvision(tmp_path):
    root = write_idx_dataset(tmp_path, "MNIST", n_train=20, n_test=10)
    code = ("import sys; from nnlab.core.data import load_dataset; "
            f"data = load_dataset('mnist', {str(root)!r}); "
            "assert len(data.train) == 20 and data.classes[0] == '0 - zero'; "
            "print('torchvision' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_file_cut_short_after_its_check_is_refused(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((5, 28, 28), dtype=np.uint8))[:-1])
    with pytest.raises(NnlabError, match="shorter than its IDX header declares"):
        read_idx(IdxFile(path.name), path)


def test_the_array_is_the_files_bytes(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(read_idx(IdxFile(path.name), path), images)
