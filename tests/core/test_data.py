"""The data layer: real IDX files through the checked NumPy reader, resident tensors, batches."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
import torch

from idx import write_idx_dataset
from nnlab.core.data import Batches, load_dataset
from nnlab.errors import DataUnavailable, NnlabError


def test_gz_only_folder_loads(idx_data_dir):
    data = load_dataset("mnist", idx_data_dir)
    assert data.train.images.shape == (200, 1, 28, 28) and data.train.images.dtype == torch.uint8
    assert data.test.images.shape == (50, 1, 28, 28)
    assert data.train.labels.dtype == torch.long and set(data.train.labels.tolist()) == set(range(10))
    assert data.classes[0].startswith("0")
    fashion = load_dataset("fashion-mnist", idx_data_dir)
    assert fashion.classes[0] == "T-shirt/top" and len(fashion.train) == 200


def test_uncompressed_files_load_too(tmp_path):
    write_idx_dataset(tmp_path, "MNIST", n_train=30, n_test=10, gz=False)
    assert len(load_dataset("mnist", tmp_path).train) == 30


def test_read_only_folder_is_extracted_into_the_user_cache(tmp_path, monkeypatch):
    root = write_idx_dataset(tmp_path / "ro", "MNIST", n_train=20, n_test=10)
    monkeypatch.setenv("NNLAB_DATA", str(root))  # $NNLAB_DATA read-only, as ../shared/data is
    raw = root / "MNIST" / "raw"
    for folder in (raw, raw.parent, root):
        folder.chmod(0o555)
    try:
        assert len(load_dataset("mnist").train) == 20
        assert sorted(p.suffix for p in raw.iterdir()) == [".gz"] * 4  # source left untouched
        assert not list(root.rglob("extracted"))  # the cache is not inside that folder
        cached = list(Path(os.environ["XDG_CACHE_HOME"]).glob("nnlab/extracted/*/MNIST/raw/train-images-idx3-ubyte"))
        assert len(cached) == 1 and cached[0].stat().st_size == 16 + 20 * 28 * 28
    finally:
        for folder in (root, raw.parent, raw):
            folder.chmod(0o755)


@pytest.mark.realdata
def test_real_mnist_from_the_shared_archives(shared_data):
    data = load_dataset("mnist", shared_data)
    assert data.train.images.shape == (60000, 1, 28, 28) and len(data.test) == 10000
    assert torch.bincount(data.train.labels).tolist()[:2] == [5923, 6742]


def test_missing_files_offline_name_the_folder_files_and_fix(tmp_path):
    with pytest.raises(DataUnavailable) as info:
        load_dataset("fashion-mnist", tmp_path)
    message = info.value.message
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte.gz" in message and "nnlab data import" in message


def test_mnist_falls_back_to_digits_only_when_asked(tmp_path):
    data = load_dataset("mnist", tmp_path, fallback=True)
    assert data.name == "digits" and "not found" in data.fallback_reason
    with pytest.raises(DataUnavailable):
        load_dataset("fashion-mnist", tmp_path, fallback=True)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_archives_give_a_clear_error(tmp_path, damage):
    root = write_idx_dataset(tmp_path, "MNIST", n_train=20, n_test=10)
    target = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    if damage == "garbage":
        target.write_bytes(b"not a gzip file at all")
    else:
        target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes())[:1000]))
    with pytest.raises(NnlabError, match="corrupt or truncated") as info:
        load_dataset("mnist", root, fallback=True)  # corruption is never papered over
    assert "nnlab data import" in info.value.message


def test_digits_is_mnist_shaped_with_a_fixed_split():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.train.images.shape[1:] == (1, 28, 28) and a.train.images.dtype == torch.uint8
    assert len(a.train) + len(a.test) == 1797
    assert torch.equal(a.test.labels, b.test.labels)
    assert a.train.images[:, :, :4].max() == 0  # the 4-pixel frame is empty, as in MNIST
    assert a.train.images.max() > 200


def test_batches_visit_every_example_once_in_a_seeded_order(idx_data_dir):
    split = load_dataset("mnist", idx_data_dir).train
    order = lambda seed: torch.cat([y for _, y in Batches(split, 64, generator=torch.Generator().manual_seed(seed))])
    first = order(1)
    assert len(first) == 200 and torch.equal(first, order(1)) and not torch.equal(first, order(2))
    assert sorted(first.tolist()) == sorted(split.labels.tolist())
    x, _ = next(iter(Batches(split, 64)))
    assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert len(Batches(split, 64)) == 4 and len(Batches(split, 64, drop_last=True)) == 3
    with pytest.raises(NnlabError):
        Batches(split, 0)
