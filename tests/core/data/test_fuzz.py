"""Junk fed to the IDX reader and the CIFAR pickle reader (Hypothesis): each input either
loads as valid data or raises NnlabError, never anything else, and nothing is allocated
or written past the caps."""

from __future__ import annotations

import gzip
import struct
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from cifar_files import batch_bytes, class_images
from idx import idx_bytes, write_idx_dataset
from nnlab.core.data import load_dataset
from nnlab.core.data.cifar import parse_batch
from nnlab.core.data.idx import IdxFile
from nnlab.core.data.pickles import MAX_ARRAY_BYTES
from nnlab.errors import NnlabError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PYTHON_HEAP_CAP = 40 << 20  # the most Python-level memory one tiny hostile file may cost


def _idx_header(draw) -> bytes:
    magic = draw(st.sampled_from([b"\0\0\x08\x03", b"\0\0\x08\x01", b"\0\0\x0a\x03", b"\x1f\x8b\x08\x00",
                                  b"\0\0\x08\x04"]))
    ndim = magic[3] if magic[3] <= 4 else 1
    sizes = st.one_of(st.integers(0, 40), st.just(28), st.integers(0, 2**32 - 1))
    return magic + struct.pack(f">{ndim}I", *(draw(sizes) for _ in range(ndim)))


@st.composite
def idx_files(draw) -> tuple[str, bytes, bool]:
    """(file name, bytes, gzipped?): a random header, often almost right, then a random body."""
    name = draw(st.sampled_from(["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]))
    if draw(st.booleans()):
        head = _idx_header(draw)
    else:  # the right header for a small file, so the body and labels get exercised
        head = idx_bytes(np.zeros((20, 28, 28) if "images" in name else (20,), np.uint8))[:16 if "images" in name else 8]
    body = draw(st.one_of(st.binary(max_size=200), st.just(bytes(20 * 784)), st.just(bytes(20 * 784 + 1)),
                          st.binary(min_size=20, max_size=20)))
    data = draw(st.one_of(st.just(head + body), st.binary(max_size=64)))
    return name, data, draw(st.booleans())


@FUZZ
@given(idx_files())
def test_idx_reader_loads_or_refuses(case):
    name, data, gz = case
    part = IdxFile(name)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_idx_dataset(Path(tmp), "MNIST", n_train=20, n_test=10)
        raw = root / "MNIST" / "raw"
        (raw / f"{name}.gz").unlink()
        (raw / (f"{name}.gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
        tracemalloc.start()
        try:
            dataset = load_dataset("mnist", root)
        except NnlabError as exc:
            assert "\n" not in exc.message and name in exc.message
            dataset = None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < PYTHON_HEAP_CAP
        for written in raw.iterdir():
            assert not written.name.endswith(".partial")
            if written.name == name and gz:
                assert written.stat().st_size <= part.max_bytes
        if dataset is not None:  # only a well-formed file loads, with the shapes it declares
            assert dataset.train.images.shape == (20, 1, 28, 28) and len(dataset.train.labels) == 20
            assert int(dataset.train.labels.max()) <= 9


def _valid_batch() -> bytes:
    labels = np.array([3, 7])
    return batch_bytes(class_images(labels, np.random.default_rng(0)), labels, "b")


VALID = _valid_batch()


@st.composite
def pickles(draw) -> bytes:
    """Random bytes, or the real batch format with bytes flipped, cut or inserted."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "cut", "insert"]))
        if edit == "flip":
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=9))
        if not data:
            break
    return bytes(data)


@FUZZ
@given(pickles())
def test_cifar_pickle_reader_loads_or_refuses(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data_batch_1"
        path.write_bytes(data)
        tracemalloc.start()
        try:
            images, labels = parse_batch(path)
        except NnlabError as exc:
            assert str(path) in exc.message
            images = None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < MAX_ARRAY_BYTES + PYTHON_HEAP_CAP
        if images is not None:
            assert images.shape[1:] == (3, 32, 32) and images.shape[0] == len(labels)
            assert 0 <= int(labels.min()) and int(labels.max()) <= 9
