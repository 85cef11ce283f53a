"""Write tiny CIFAR-10 datasets in the real python-batch format (Python 2 pickles), for tests."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

FOLDER = "cifar-10-batches-py"
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


class Py2Pickler(pickle._Pickler):  # the pure-Python pickler lets us choose how bytes are written
    """Writes bytes as Python 2 `str` (SHORT_BINSTRING/BINSTRING), as the published batches do."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def py2_dumps(obj) -> bytes:
    """`obj` pickled with protocol 2 the way Python 2's cPickle wrote it."""
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def class_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 3072) uint8 images whose class is plain to see: over noise, a bright horizontal band
    at one of five heights, in the red or the green channel. Flips and small shifts keep it.
    The bands stay above row 27: the network's floor pooling (31 -> 15 -> 7 -> 3) sees the
    bottom rows only through its 3x3 convolutions, as it does in airbench."""
    images = rng.integers(0, 60, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    for i, c in enumerate(labels):
        row = 3 + 5 * (int(c) % 5)
        images[i, int(c) // 5, row:row + 3, 4:28] = 240
    return images.reshape(len(labels), -1)


def batch_bytes(images: np.ndarray, labels: np.ndarray, label: str) -> bytes:
    """One batch file's bytes: the dict the published batches hold, keys and all."""
    return py2_dumps({b"batch_label": label.encode(), b"labels": [int(x) for x in labels],
                      b"data": np.ascontiguousarray(images, dtype=np.uint8),
                      b"filenames": [b"img_%05d.png" % i for i in range(len(labels))]})


def write_cifar_folder(root: Path, n_train: int = 200, n_test: int = 100, seed: int = 0) -> Path:
    """Write root/cifar-10-batches-py with five training batches, a test batch and the meta file."""
    rng = np.random.default_rng(seed)
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.arange(n_train) % 10
    rng.shuffle(labels)
    images = class_images(labels, rng)
    for i, part in enumerate(np.array_split(np.arange(n_train), 5), start=1):
        (folder / f"data_batch_{i}").write_bytes(batch_bytes(images[part], labels[part], f"training batch {i} of 5"))
    test_labels = np.arange(n_test) % 10
    (folder / "test_batch").write_bytes(batch_bytes(class_images(test_labels, rng), test_labels, "testing batch 1 of 1"))
    (folder / "batches.meta").write_bytes(py2_dumps({b"label_names": NAMES, b"num_cases_per_batch": n_train // 5,
                                                     b"num_vis": 3072}))
    return root


def write_cifar_archive(path: Path, **kwargs) -> Path:
    """The folder above packed as cifar-10-python.tar.gz at `path`."""
    staging = path.parent / ".staging"
    write_cifar_folder(staging, **kwargs)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging / FOLDER, arcname=FOLDER)
    return path


class Evil:
    """Unpickling this would run a shell command (os.system): the hostile pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def one_thread():
    """Two torch threads on two shared cores run several times slower than one; tests stay small."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
