"""Write tiny datasets in the real MNIST IDX format (optionally gzipped), for tests."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic (0, 0, 0x08, ndim), big-endian dims, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def class_images(labels: np.ndarray, rng: np.random.Generator, side: int = 28) -> np.ndarray:
    """Images whose class is visible: class c lights a 6x6 block at its own place, plus noise."""
    images = rng.integers(0, 40, size=(len(labels), side, side), dtype=np.uint8)
    for i, c in enumerate(labels):
        r, col = divmod(int(c), 5)
        images[i, 3 + 12 * r:9 + 12 * r, 1 + 5 * col:7 + 5 * col] = 230
    return images


def write_idx_dataset(root: Path, folder: str = "MNIST", n_train: int = 200, n_test: int = 50,
                      gz: bool = True, seed: int = 0) -> Path:
    """Write a tiny MNIST-format dataset under root/folder/raw; return root."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for train, n in ((True, n_train), (False, n_test)):
        labels = np.arange(n, dtype=np.uint8) % 10
        rng.shuffle(labels)
        images = class_images(labels, rng)
        for name, array in zip(FILES[train], (images, labels)):
            data = idx_bytes(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
    return root
