"""Shared fixtures: no network, a pinned console width, tiny real-format datasets, temp run roots."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/idx.py and friends

from idx import write_idx_dataset  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tests run torch on tiny tensors, where syncing two threads costs more than the work;
    one thread also keeps timings sane on a shared machine. Subprocesses inherit it via OMP."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Tests never touch the network, the user's cache or ./runs, and see a 100-column console."""
    monkeypatch.setenv("NNLAB_OFFLINE", "1")
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path_factory.mktemp("nnlab-data-default")))
    monkeypatch.setenv("NNLAB_RUNS", str(tmp_path_factory.mktemp("nnlab-runs-default")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def tmp_runs(tmp_path) -> Path:
    """An empty runs root."""
    path = tmp_path / "runs"
    path.mkdir()
    return path


@pytest.fixture
def idx_data_dir(tmp_path) -> Path:
    """A data dir holding tiny gzipped MNIST and Fashion-MNIST in the real IDX format."""
    root = tmp_path / "data"
    write_idx_dataset(root, "MNIST", seed=0)
    write_idx_dataset(root, "FashionMNIST", seed=1)
    return root


@pytest.fixture
def shared_data() -> Path:
    """The real MNIST/Fashion-MNIST archives in ../shared/data; skips when absent."""
    if not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("real datasets not available (../shared/data absent)")
    return SHARED_DATA
