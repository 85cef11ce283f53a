"""Hostile MNIST-format files: real IDX bytes with bad headers, gzip bombs and corrupt
streams, each through the real loader. Every one is one NnlabError, and leaves nothing behind."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from idx import idx_bytes, write_idx_dataset
from nnlab.core.data import load_dataset
from nnlab.errors import NnlabError

RAW = ("MNIST", "raw")


def _mnist(tmp_path, n_train=20, n_test=10):
    root = write_idx_dataset(tmp_path / "data", "MNIST", n_train=n_train, n_test=n_test)
    return root, root.joinpath(*RAW)


def _load_error(root) -> str:
    with pytest.raises(NnlabError) as info:
        load_dataset("mnist", root)
    message = info.value.message
    assert "\n" not in message
    return message


def _leftovers(root) -> list:
    return sorted(p.name for p in root.rglob("*") if p.name.endswith(".partial"))


def test_a_gzip_bomb_stops_at_the_size_its_header_declares(tmp_path):
    root, raw = _mnist(tmp_path)
    images = np.zeros((20, 28, 28), np.uint8)
    # a valid header for 20 images, then 16 MB of zeros: 16 kB on disk
    bomb = gzip.compress(idx_bytes(images) + bytes(16 << 20), compresslevel=1)
    assert len(bomb) < 100_000
    (raw / "train-images-idx3-ubyte.gz").write_bytes(bomb)
    message = _load_error(root)
    assert "decompression bomb" in message and "15,696 bytes" in message  # 16 + 20 * 784
    assert not (raw / "train-images-idx3-ubyte").exists() and not _leftovers(root)


def test_a_header_claiming_more_than_the_dataset_holds_is_refused_before_reading(tmp_path):
    root, raw = _mnist(tmp_path)
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 60_001, 28, 28)  # one image more than MNIST has
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + bytes(8 << 20)))
    message = _load_error(root)
    assert "60001 x 28 x 28" in message and "N <= 60,000" in message
    assert not (raw / "train-images-idx3-ubyte").exists() and not _leftovers(root)


@pytest.mark.parametrize("header, expected", [
    (b"\x1f\x8b\x08\x03", "bad magic number 0x1f8b0803 (expected 0x00000803)"),
    (b"\x00\x00\x08\x02", "bad magic number 0x00000802"),
    (b"\x00\x00\x0a\x03", "type byte 0x0a (unknown)"),
    (b"\x00\x00\x0d\x03", "type byte 0x0d (float)"),
])
def test_bad_magic_and_type_bytes_name_the_reason(tmp_path, header, expected):
    root, raw = _mnist(tmp_path)
    good = gzip.decompress((raw / "t10k-images-idx3-ubyte.gz").read_bytes())
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + good[4:]))
    message = _load_error(root)
    assert expected in message and "t10k-images-idx3-ubyte.gz" in message and "nnlab data import" in message


def test_images_that_are_not_28_by_28_are_refused(tmp_path):
    root, raw = _mnist(tmp_path)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((20, 28, 29), np.uint8))))
    assert "20 x 28 x 29" in _load_error(root)


def test_a_label_out_of_range_names_it_and_its_position(tmp_path):
    root, raw = _mnist(tmp_path)
    labels = np.arange(20, dtype=np.uint8) % 10
    labels[7] = 200
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    message = _load_error(root)
    assert "label 200 at position 7" in message and "0-9" in message
    assert not (raw / "train-labels-idx1-ubyte").exists()


def test_image_and_label_counts_must_agree(tmp_path):
    root, raw = _mnist(tmp_path)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(19, np.uint8))))
    assert "holds 20 images but" in _load_error(root) and "19 labels" in _load_error(root)


def test_a_truncated_stream_is_refused_and_removed(tmp_path):
    root, raw = _mnist(tmp_path)
    good = gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes())
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good[:-100]))
    assert "ends 100 bytes early" in _load_error(root)
    assert not (raw / "train-images-idx3-ubyte").exists() and not _leftovers(root)


def test_a_corrupt_deflate_stream_is_one_line(tmp_path):
    root, raw = _mnist(tmp_path)
    data = bytearray(gzip.compress(np.random.default_rng(0).bytes(50_000)))
    data[10:] = b"\xff" * (len(data) - 10)  # an invalid block type right after the gzip header
    (raw / "train-images-idx3-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(Exception) as info:
        gzip.decompress(bytes(data))
    assert type(info.value).__name__ == "error"  # zlib.error: what used to escape as a traceback
    message = _load_error(root)
    assert "corrupt or truncated (zlib:" in message and not _leftovers(root)


def test_an_uncompressed_file_with_trailing_bytes_is_refused(tmp_path):
    root = write_idx_dataset(tmp_path / "data", "MNIST", n_train=20, n_test=10, gz=False)
    path = root.joinpath(*RAW, "t10k-images-idx3-ubyte")
    path.write_bytes(path.read_bytes() + b"\0" * 10)
    assert "holds 7,866 bytes but its header declares 7,856" in _load_error(root)


def test_a_legacy_processed_cache_is_one_line(tmp_path):
    root, raw = _mnist(tmp_path)
    processed = root / "MNIST" / "processed"
    processed.mkdir()
    (processed / "training.pt").write_bytes(b"PK\x03\x04 not a torch file")
    (processed / "test.pt").write_bytes(b"junk")
    message = _load_error(root)
    assert "legacy training.pt and test.pt" in message and str(processed) in message


def test_a_folder_where_a_raw_file_belongs_is_refused(tmp_path):
    root, raw = _mnist(tmp_path)
    (raw / "train-images-idx3-ubyte").mkdir()
    assert "is not a regular file" in _load_error(root)


def test_valid_files_still_load_after_the_checks(tmp_path):
    root, _ = _mnist(tmp_path, n_train=30, n_test=10)
    data = load_dataset("mnist", root)
    assert data.train.images.shape == (30, 1, 28, 28) and int(data.train.labels.max()) <= 9
    again = load_dataset("mnist", root)  # the decompressed files are checked and reused
    assert torch.equal(data.train.images, again.train.images)
