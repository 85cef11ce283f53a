"""CIFAR-10 from its python batches, read with the restricted, bounded unpickler.

The canonical archive `cifar-10-python.tar.gz` holds `cifar-10-batches-py/`: five training
batches, one test batch and `batches.meta`, each a pickle written by Python 2. Members are
extracted by name, never by the path in the archive, and no member may be larger than the
published one, so a crafted archive can neither write outside the folder nor fill the disk.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np
import torch

from nnlab.core.data.atomic import atomic_output
from nnlab.core.data.cache import readable_root
from nnlab.core.data.pickles import read_pickle
from nnlab.core.data.splits import Dataset, Split
from nnlab.errors import NnlabError

FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
ALL_FILES = TRAIN_FILES + (TEST_FILE, META_FILE)
BATCH_FILES = TRAIN_FILES + (TEST_FILE,)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PIXELS = 3 * 32 * 32  # one row of a batch's `data`: 1024 red, then 1024 green, then 1024 blue
MEMBER_SIZES = {  # bytes of each member of the published archive
    "data_batch_1": 31_035_704, "data_batch_2": 31_035_320, "data_batch_3": 31_035_999,
    "data_batch_4": 31_035_696, "data_batch_5": 31_035_623, "test_batch": 31_035_526,
    "batches.meta": 158, "readme.html": 88,
}
MAX_MEMBERS = 64  # the archive has 9 entries; a listing longer than this is not it
FIX = "delete it and import a good copy with `nnlab data import PATH`"


def read_batch(path: Path) -> dict:
    """Unpickle one CIFAR batch file safely; keys come back as str (NnlabError when it is bad)."""
    obj = read_pickle(path)
    if not isinstance(obj, dict):
        raise NnlabError(f"{path} is not a CIFAR batch (it holds a {type(obj).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def parse_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 3, 32, 32) uint8, labels (N,) int64) from one batch file, validated."""
    batch = read_batch(path)
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise NnlabError(f"{path} is not a CIFAR-10 batch: 'data' should be uint8 (N, {PIXELS}), got {what}")
    integers = (isinstance(labels, list) and all(type(x) is int for x in labels)) or (
        isinstance(labels, np.ndarray) and labels.dtype.kind in "iu")
    if not integers:
        raise NnlabError(f"{path} is not a CIFAR-10 batch: 'labels' is not a list of integers")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1) if len(labels) else np.zeros(0, np.int64)
    if labels.shape != (len(data),) or len(data) == 0 or labels.min() < 0 or labels.max() >= len(CLASSES):
        raise NnlabError(f"{path} is not a CIFAR-10 batch: {len(data)} images but labels "
                         f"of shape {labels.shape} (each must be 0-9)")
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(labels)


def class_names(folder: Path) -> list[str]:
    """The label names in `batches.meta`, or the standard ten when the file is absent."""
    meta = folder / META_FILE
    if not meta.exists():
        return list(CLASSES)
    names = read_batch(meta).get("label_names")
    if not isinstance(names, list) or len(names) != len(CLASSES) or not all(isinstance(n, (str, bytes)) for n in names):
        raise NnlabError(f"{meta} is not CIFAR-10 metadata: 'label_names' should list 10 names")
    return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]


def complete(folder: Path) -> bool:
    """Whether `folder` holds every batch file."""
    return all((folder / f).is_file() for f in BATCH_FILES)


def extract(archive: Path, target_root: Path) -> Path:
    """Copy the batch files out of the canonical tar.gz into target_root/cifar-10-batches-py.

    Only regular members with the expected names are written, each no larger than its
    published size; a member past its size, or a listing longer than the archive's, stops
    the extraction (what it wrote of that member is deleted).
    """
    folder = target_root / FOLDER
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for count, member in enumerate(tar, start=1):
                name = Path(member.name).name
                if count > MAX_MEMBERS:
                    raise NnlabError(f"{archive} lists more than {MAX_MEMBERS} members; the published archive "
                                     f"has 9, so this is not it; {FIX}")
                if member.size > max(MEMBER_SIZES.values()):
                    raise NnlabError(f"{archive} holds a member {name!r} of {member.size:,} bytes, larger than "
                                     f"any in the published archive; nothing of it was extracted; {FIX}")
                if not (member.isfile() and name in ALL_FILES):
                    continue
                with tar.extractfile(member) as src, atomic_output(folder / name, MEMBER_SIZES[name]) as sink:
                    sink.copy_from(src, member.size)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NnlabError(f"{archive} is corrupt or truncated ({reason}); {FIX}") from None
    if not complete(folder):
        raise NnlabError(f"{archive} lacks the CIFAR-10 batches ({', '.join(BATCH_FILES)}); {FIX}")
    return folder


def locate(data_dir: Path) -> Path | None:
    """The folder of batch files, extracted from the archive when needed; None when neither is there."""
    folder = data_dir / FOLDER
    if complete(folder):
        return folder
    archive = data_dir / ARCHIVE
    if not archive.is_file():
        return None
    root = readable_root(data_dir)
    if complete(root / FOLDER):
        return root / FOLDER
    return extract(archive, root)


def load_folder(folder: Path) -> Dataset:
    """The `cifar10` Dataset (50,000 train and 10,000 test images as uint8) from a batch folder."""
    parts = [parse_batch(folder / f) for f in TRAIN_FILES]
    train = Split(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))
    test = Split(*parse_batch(folder / TEST_FILE))
    return Dataset("cifar10", train, test, class_names(folder), str(folder))
