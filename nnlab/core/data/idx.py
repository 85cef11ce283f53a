"""MNIST and Fashion-MNIST: IDX files checked before anything is allocated, then read with NumPy.

An IDX file starts with a magic number (0, 0, type, ndim) and ndim big-endian sizes. For
these datasets the type is 0x08 (unsigned bytes), images are N x 28 x 28 and labels N, with
N at most 60,000 (train) or 10,000 (test). The header fixes the file's exact size, so a
.gz is decompressed no further than that: a longer stream is a bomb, a shorter one is
truncated, and either way nothing of it is kept. Labels must lie in 0-9.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from nnlab.core.data.atomic import atomic_output
from nnlab.core.data.cache import readable_root
from nnlab.core.data.specs import IDX_CLASSES, archive_spec
from nnlab.core.data.splits import Dataset, Split
from nnlab.errors import NnlabError

UBYTE = 0x08
SIDE = 28
CLASSES = 10
SPLIT_SIZES = {"train": 60_000, "t10k": 10_000}  # the most examples each split holds
TYPE_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float",
              0x0E: "double"}
FIX = "delete it and import a good copy with `nnlab data import PATH`"
CORRUPT = (OSError, EOFError, zlib.error)  # what a damaged gzip stream raises


@dataclass(frozen=True)
class IdxFile:
    """One of the four files, by name: its split, its rank, and the header and sizes it may have."""

    filename: str  # e.g. train-images-idx3-ubyte (without .gz)

    @property
    def split(self) -> str:
        """"train" or "t10k"."""
        return self.filename.split("-")[0]

    @property
    def ndim(self) -> int:
        """3 for images, 1 for labels."""
        return 3 if "-images-" in self.filename else 1

    @property
    def header_size(self) -> int:
        """Bytes of the magic number plus the sizes."""
        return 4 + 4 * self.ndim

    @property
    def max_bytes(self) -> int:
        """The canonical (largest possible) size of the uncompressed file."""
        n = SPLIT_SIZES[self.split]
        return self.header_size + (n * SIDE * SIDE if self.ndim == 3 else n)

    def parse_header(self, head: bytes, path: Path) -> tuple[int, ...]:
        """The sizes in `head`, or NnlabError naming what is wrong with it."""
        kind = "images" if self.ndim == 3 else "labels"
        expected = bytes([0, 0, UBYTE, self.ndim])
        if len(head) < self.header_size:
            raise NnlabError(f"{path} is truncated: {len(head)} bytes, shorter than an IDX header; {FIX}")
        if head[:2] != b"\0\0" or head[3] != self.ndim:
            raise NnlabError(f"{path} is not an IDX {kind} file: bad magic number 0x{head[:4].hex()} "
                             f"(expected 0x{expected.hex()}); {FIX}")
        if head[2] != UBYTE:
            name = TYPE_NAMES.get(head[2], "unknown")
            raise NnlabError(f"{path} has IDX type byte 0x{head[2]:02x} ({name}); MNIST-format files "
                             f"hold unsigned bytes (0x08); {FIX}")
        dims = struct.unpack(f">{self.ndim}I", head[4:self.header_size])
        limit = SPLIT_SIZES[self.split]
        if not 1 <= dims[0] <= limit or (self.ndim == 3 and dims[1:] != (SIDE, SIDE)):
            shape = "N x 28 x 28 images" if self.ndim == 3 else "N labels"
            raise NnlabError(f"{path} declares {kind} of size {' x '.join(map(str, dims))}; expected "
                             f"{shape} with 1 <= N <= {limit:,}; {FIX}")
        return dims

    def file_size(self, dims: tuple[int, ...]) -> int:
        """The exact size of a file whose header holds `dims`."""
        return self.header_size + prod(dims)


def check_labels(data: bytes | np.ndarray, path: Path) -> None:
    """NnlabError when any label byte is outside 0..9."""
    values = np.frombuffer(data, dtype=np.uint8)
    if values.size and values.max() >= CLASSES:
        at = int(np.argmax(values >= CLASSES))
        raise NnlabError(f"{path} holds label {values[at]} at position {at:,}; labels must be 0-9; {FIX}")


def check_raw(part: IdxFile, path: Path) -> tuple[int, ...]:
    """Check an uncompressed IDX file's header, size and labels; return its sizes."""
    if not path.is_file():
        raise NnlabError(f"{path} is not a regular file; {FIX}")
    with open(path, "rb") as fh:
        dims = part.parse_header(fh.read(part.header_size), path)
        size = path.stat().st_size
        if size != part.file_size(dims):
            raise NnlabError(f"{path} holds {size:,} bytes but its header declares {part.file_size(dims):,}; "
                             f"it is truncated or padded; {FIX}")
        if part.ndim == 1:
            check_labels(fh.read(), path)
    return dims


def gunzip_checked(part: IdxFile, archive: Path, target: Path) -> tuple[int, ...]:
    """Decompress `archive` to `target`, no further than its IDX header says; return its sizes."""
    try:
        with gzip.open(archive, "rb") as src, atomic_output(target, limit=part.max_bytes) as sink:
            head = _read_exact(src, part.header_size)
            dims = part.parse_header(head, archive)
            sink.write(head)
            body = part.file_size(dims) - len(head)
            if part.ndim == 1:
                labels = _read_exact(src, body)
                check_labels(labels, archive)
                sink.write(labels)
            else:
                sink.copy_from(src, body)
            if src.read(1):
                raise NnlabError(f"{archive} decompresses past the {part.file_size(dims):,} bytes its IDX "
                                 f"header declares (a decompression bomb or a damaged file); stopped there "
                                 f"and kept nothing; {FIX}")
    except CORRUPT as exc:
        raise NnlabError(f"{archive} is corrupt or truncated ({_reason(exc)}); {FIX}") from None
    return dims


def _read_exact(src: BinaryIO, n: int) -> bytes:
    data = src.read(n)
    if len(data) < n:
        raise EOFError(f"the stream ends {n - len(data):,} bytes early")
    return data


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    name = "zlib" if isinstance(exc, zlib.error) else type(exc).__name__
    return f"{name}: {text}" if text else name


def prepare(name: str, data_dir: Path) -> Path | None:
    """A root holding all four files uncompressed and checked, for `load_idx`.

    A folder holding only the canonical .gz archives works: they are decompressed next to
    themselves, or into the user cache when the folder is read-only. None when some file is
    absent in both forms.
    """
    spec = archive_spec(name)
    folder = data_dir / spec.folder
    parts = [IdxFile(f.removesuffix(".gz")) for f, _ in spec.files]
    if not all((folder / p.filename).exists() or (folder / f"{p.filename}.gz").exists() for p in parts):
        return None
    everything_raw = all((folder / p.filename).exists() for p in parts)
    root = data_dir if everything_raw else readable_root(data_dir, spec.folder)
    counts = {}  # (split, ndim) -> (file read, N)
    for part in parts:
        source, target = folder / part.filename, root / spec.folder / part.filename
        if source.exists() and source == target:
            dims = check_raw(part, source)
        elif source.exists():  # uncompressed in a read-only folder: copied beside the rest
            dims = copy_checked(part, source, target)
        elif target.is_file():  # decompressed into the cache by an earlier run
            dims, source = check_raw(part, target), target
        else:
            source = folder / f"{part.filename}.gz"
            dims = gunzip_checked(part, source, target)
        counts[part.split, part.ndim] = (source, dims[0])
    for split in SPLIT_SIZES:
        (images, n_images), (labels, n_labels) = counts[split, 3], counts[split, 1]
        if n_images != n_labels:
            raise NnlabError(f"{images} holds {n_images:,} images but {labels} holds {n_labels:,} labels; "
                             f"they must match; {FIX}")
    legacy = (root / spec.folder).parent / "processed"
    if all((legacy / f).exists() for f in ("training.pt", "test.pt")):
        raise NnlabError(f"{legacy} holds torchvision's legacy training.pt and test.pt, which nnlab does "
                         "not load; delete that folder (nnlab reads the raw files beside it)")
    return root


def copy_checked(part: IdxFile, raw: Path, target: Path) -> tuple[int, ...]:
    """A checked uncompressed file from a read-only folder, copied into the cache."""
    dims = check_raw(part, raw)
    if not (target.is_file() and target.stat().st_size == raw.stat().st_size):
        with open(raw, "rb") as src, atomic_output(target, limit=part.max_bytes) as sink:
            sink.copy_from(src)
    return dims


def read_idx(part: IdxFile, path: Path) -> np.ndarray:
    """The uint8 array in the IDX file at `path`: its header checked again (the file may have
    changed since `prepare`), then exactly the bytes it declares read into an array that size."""
    with open(path, "rb") as fh:
        dims = part.parse_header(fh.read(part.header_size), path)
        array = np.empty(prod(dims), dtype=np.uint8)
        if fh.readinto(memoryview(array)) != array.size:
            raise NnlabError(f"{path} is shorter than its IDX header declares; {FIX}")
    if part.ndim == 1:
        check_labels(array, path)
    return array.reshape(dims)


def load_idx(name: str, root: Path, source: Path) -> Dataset:
    """Read the checked files under `root`: images (N, 1, 28, 28) uint8, labels int64."""
    spec = archive_spec(name)
    folder = root / spec.folder
    arrays = {}  # (split, ndim) -> array
    for filename, _ in spec.files:
        part = IdxFile(filename.removesuffix(".gz"))
        try:
            arrays[part.split, part.ndim] = read_idx(part, folder / part.filename)
        except OSError as exc:  # deleted or made unreadable under us
            raise NnlabError(f"{name} files in {folder} could not be read ({_reason(exc)}); "
                             "import good copies with `nnlab data import PATH`") from None
    splits = [Split(torch.from_numpy(arrays[split, 3]).unsqueeze(1), torch.from_numpy(arrays[split, 1]).long())
              for split in SPLIT_SIZES]
    return Dataset(name, splits[0], splits[1], list(IDX_CLASSES[name]), str(source))
