"""Hostile CIFAR-10 files: tar members past their published size, endless listings, and
pickles that ask numpy (or the unpickler) for gigabytes. All refused before allocating."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import tracemalloc

import numpy as np
import pytest

from cifar_files import FOLDER, write_cifar_folder
from nnlab.core.data import load_dataset, read_batch
from nnlab.errors import NnlabError

GiB = 1 << 30
RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\n"
NDARRAY = b"cnumpy\nndarray\n"


def _long(n: int) -> bytes:
    """LONG1: a pickled int of any size."""
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def _dtype(code: bytes) -> bytes:
    return b"cnumpy\ndtype\nU" + bytes([len(code)]) + code + b"\x89\x88\x87R"


HOSTILE = {
    # numpy's _reconstruct asked for 2**33 bytes: 67 bytes of pickle, 8 GiB of memory
    "reconstruct 8 GiB": b"\x80\x02" + RECONSTRUCT + NDARRAY + _long(1 << 33) + b"\x85U\x01b\x87R.",
    # numpy.ndarray((2**33,)) called directly
    "ndarray 8 GiB": b"\x80\x02" + NDARRAY + _long(1 << 33) + b"\x85\x85R.",
    # a 4-byte dtype times 2**31 elements
    "wide dtype": b"\x80\x02" + RECONSTRUCT + NDARRAY + _long(1 << 31) + b"\x85" + _dtype(b"i4") + b"\x87R.",
    # a small array whose unpickled state declares 2**33 elements
    "state 8 GiB": b"\x80\x02" + RECONSTRUCT + NDARRAY + b"K\x00\x85U\x01b\x87R(K\x01" + _long(1 << 33)
                   + b"\x85" + _dtype(b"u1") + b"\x89U\x00tb.",
    # an object array (it could hold anything the pickle builds)
    "object dtype": b"\x80\x02" + RECONSTRUCT + NDARRAY + b"K\x01\x85" + _dtype(b"O8") + b"\x87R.",
    # the C unpickler would grow its memo array to index 2**31 - 1 (16 GiB of pointers)
    "memo index": b"\x80\x02]r\xff\xff\xff\x7f.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_pickles_asking_for_gigabytes_are_refused_before_allocating(tmp_path, name):
    path = tmp_path / "data_batch_1"
    path.write_bytes(HOSTILE[name])
    assert len(HOSTILE[name]) < 120
    tracemalloc.start()
    try:
        with pytest.raises(NnlabError) as info:
            read_batch(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20, f"{name}: {peak:,} bytes allocated"
    assert "\n" not in info.value.message and str(path) in info.value.message


def test_the_budget_counts_every_array_of_a_file(tmp_path):
    # ten arrays of 10 MB each: each alone would pass, together they pass a whole batch
    one = RECONSTRUCT + NDARRAY + _long(10_000_000) + b"\x85U\x01b\x87R"
    path = tmp_path / "batch"
    path.write_bytes(b"\x80\x02(" + one * 10 + b"l.")
    with pytest.raises(NnlabError, match="refused before allocating"):
        read_batch(path)


def test_a_file_larger_than_any_batch_is_not_read(tmp_path):
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as fh:
        fh.truncate(65 << 20)  # sparse: 65 MB on paper, nothing on disk
    with pytest.raises(NnlabError, match=r"68,157,440 bytes, more than a CIFAR-10 batch"):
        read_batch(path)


def test_a_genuine_batch_still_reads(tmp_path):
    write_cifar_folder(tmp_path, n_train=50, n_test=10)
    batch = read_batch(tmp_path / FOLDER / "data_batch_1")
    assert type(batch["data"]) is np.ndarray and batch["data"].shape == (10, 3072)


def _archive(path, members):
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_member_past_its_published_size_is_not_extracted(tmp_path):
    source = write_cifar_folder(tmp_path / "src", n_train=50, n_test=10) / FOLDER
    members = [(f"{FOLDER}/{p.name}", p.read_bytes()) for p in sorted(source.iterdir())]
    members[0] = (f"{FOLDER}/batches.meta", bytes(40 << 20))  # 40 MB of zeros
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _archive(data_dir / "cifar-10-python.tar.gz", members)
    assert (data_dir / "cifar-10-python.tar.gz").stat().st_size < 1_000_000  # a 40 MB member inside
    with pytest.raises(NnlabError, match="larger than any in the published archive") as info:
        load_dataset("cifar10", data_dir)
    assert "\n" not in info.value.message
    written = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    assert written == (data_dir / "cifar-10-python.tar.gz").stat().st_size  # nothing extracted
    assert not list(data_dir.rglob("*.partial"))


def test_a_member_over_its_own_size_stops_and_leaves_nothing(tmp_path):
    # batches.meta is 158 bytes in the published archive: 10 kB of it is not that file
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _archive(data_dir / "cifar-10-python.tar.gz", [(f"{FOLDER}/batches.meta", bytes(10_000))])
    with pytest.raises(NnlabError, match="grow past 158 bytes"):
        load_dataset("cifar10", data_dir)
    assert not (data_dir / FOLDER / "batches.meta").exists() and not list(data_dir.rglob("*.partial"))


def test_an_endless_listing_is_cut_short(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _archive(data_dir / "cifar-10-python.tar.gz", [(f"junk/{i}", b"") for i in range(200)])
    with pytest.raises(NnlabError, match="more than 64 members"):
        load_dataset("cifar10", data_dir)


def test_struct_helpers_write_what_pickle_reads():
    assert pickle.loads(b"\x80\x02" + _long(1 << 33) + b".") == 1 << 33
    assert struct.unpack("<i", b"\xff\xff\xff\x7f")[0] == 2**31 - 1


def test_a_cut_short_pickle_names_the_reason(tmp_path):
    """BINBYTES8 claiming 9 GB, then one byte: EOFError has no text of its own."""
    path = tmp_path / "data_batch_1"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 9_000_000_000) + b"x.")
    with pytest.raises(NnlabError, match=r"corrupt or truncated \(EOFError: it ends early\)"):
        read_batch(path)
