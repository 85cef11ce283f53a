"""CIFAR-10 from its python batches, read with a restricted unpickler.

The canonical archive `cifar-10-python.tar.gz` holds `cifar-10-batches-py/`: five training
batches, one test batch and `batches.meta`, each a pickle written by Python 2. A pickle can
name any importable callable, so a plain `pickle.load` of a file from the internet runs
whatever it names. `read_batch` admits only what the format holds (dicts, lists, strings,
bytes, numpy arrays and dtypes) and refuses everything else before it is constructed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import socket
import sys
import tarfile
import zlib
from pathlib import Path

import numpy as np
import torch

from nnlab.core.archives import archive_spec
# the MNIST loader's rules for offline use and read-only data dirs apply here too
from nnlab.core.data import DOWNLOAD_TIMEOUT_S, Dataset, Split, _extraction_root, _writable, offline
from nnlab.errors import DataUnavailable, NnlabError

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
ALL_FILES = TRAIN_FILES + (TEST_FILE, META_FILE)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PIXELS = 3 * 32 * 32  # one row of a batch's `data`: 1024 red, then 1024 green, then 1024 blue


class ForeignObject(NnlabError):
    """A pickle names something a CIFAR batch never holds."""


# ---- restricted unpickling ---------------------------------------------------------------

def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """How protocol-2 pickles written by Python 3 spell bytes: `_codecs.encode(text, 'latin1')`."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise ForeignObject(f"a _codecs.encode call with encoding {encoding!r}")
    return text.encode("latin1")


# numpy moved `_reconstruct` from numpy.core to numpy._core in 2.0; pickles name either path
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_bytes,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, tuples, strings, numbers, bytes and numpy arrays."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise ForeignObject(f"{module}.{name}") from None


def read_batch(path: Path) -> dict:
    """Unpickle one CIFAR batch file safely; keys come back as str.

    Raises NnlabError for a file that names a foreign object and for one that is corrupt or
    truncated; nothing the file names outside the allow-list is ever imported or called.
    """
    try:
        with open(path, "rb") as fh:
            # the batches were pickled by Python 2: its str (bytes) decode 1:1 as latin-1
            obj = _RestrictedUnpickler(fh, encoding="latin1").load()
    except ForeignObject as exc:
        raise NnlabError(
            f"{path} holds a foreign object ({exc.message}); CIFAR-10 batches hold only dicts, lists, "
            "bytes and numpy arrays, so it was refused unread. Replace it with a genuine copy "
            "(`nnlab data import PATH`)"
        ) from None
    except OSError as exc:
        raise NnlabError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # unpickling garbage raises nearly any type; all mean a bad file
        raise NnlabError(f"{path} is corrupt or truncated ({type(exc).__name__}: {exc}); delete it and "
                         "import a good copy with `nnlab data import PATH`") from None
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
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise NnlabError(f"{path} is not a CIFAR-10 batch: 'labels' is not a list of integers") from None
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
    if not isinstance(names, list) or len(names) != len(CLASSES):
        raise NnlabError(f"{meta} is not CIFAR-10 metadata: 'label_names' should list 10 names")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


# ---- finding, extracting, downloading ------------------------------------------------------

def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in TRAIN_FILES + (TEST_FILE,))


def extract(archive: Path, target_root: Path) -> Path:
    """Copy the batch files out of the canonical tar.gz into target_root/cifar-10-batches-py.

    Only regular members with the expected names are written (by name, never by the path in
    the archive), so a crafted archive cannot write outside the folder.
    """
    folder = target_root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.isfile() and name in ALL_FILES:
                    tmp = folder / f".{name}.partial"
                    with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    os.replace(tmp, folder / name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise NnlabError(f"{archive} is corrupt or truncated ({exc}); delete it and import a good copy "
                         "with `nnlab data import PATH`") from None
    if not _complete(folder):
        raise NnlabError(f"{archive} lacks the CIFAR-10 batches ({', '.join(TRAIN_FILES)}, {TEST_FILE})")
    return folder


def _missing(data_dir: Path, why: str) -> str:
    archive = archive_spec("cifar10").files[0][0]
    return (f"cifar10 not found in {data_dir} ({why}); expected {archive} or its extracted {FOLDER}/ "
            f"folder. Fix: `nnlab data import PATH` with either, or pass --data-dir DIR")


def _download(data_dir: Path, download: bool) -> None:
    from torchvision import datasets
    from torchvision.datasets.utils import download_and_extract_archive

    if not download or offline():
        raise DataUnavailable(_missing(data_dir, "downloads are off"))
    cls = datasets.CIFAR10
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout belongs to --json output
            download_and_extract_archive(cls.url, str(data_dir), filename=cls.filename, md5=cls.tgz_md5)
    except Exception as exc:  # any network or disk failure means the same to the user
        raise DataUnavailable(_missing(data_dir, f"download failed: {exc}")) from None
    finally:
        socket.setdefaulttimeout(previous)


def locate(data_dir: Path, download: bool) -> Path:
    """The folder of batch files: present, extracted from the archive, or downloaded."""
    folder = data_dir / FOLDER
    if _complete(folder):
        return folder
    archive = data_dir / archive_spec("cifar10").files[0][0]
    if archive.is_file():
        root = data_dir if _writable(data_dir) else _extraction_root(data_dir)
        if _complete(root / FOLDER):
            return root / FOLDER
        return extract(archive, root)
    _download(data_dir, download)
    return folder


def load_cifar10(name: str, data_dir: Path, download: bool) -> Dataset:
    """The `cifar10` Dataset (50,000 train and 10,000 test images as uint8), from `data_dir`."""
    folder = locate(data_dir, download)
    parts = [parse_batch(folder / f) for f in TRAIN_FILES]
    train = Split(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))
    test = Split(*parse_batch(folder / TEST_FILE))
    return Dataset("cifar10", train, test, class_names(folder), str(folder))


def import_extracted(source: Path, data_dir: Path) -> list[tuple[str, str, str]]:
    """Copy an extracted `cifar-10-batches-py` folder into `data_dir`, reading every file first.

    Each batch goes through the restricted reader before it is copied, so a foreign object or
    a truncated file is refused at import, not at training time. Returns (dataset, file,
    outcome) rows like `import_archives`; raises NnlabError when a file is bad.
    """
    folder = source if source.name == FOLDER else next(iter(sorted(source.rglob(FOLDER))), None)
    if folder is None or not folder.is_dir():
        return []
    if not _complete(folder):
        missing = [f for f in TRAIN_FILES + (TEST_FILE,) if not (folder / f).is_file()]
        raise NnlabError(f"{folder} lacks {', '.join(missing)}; it is not a whole cifar-10-batches-py folder")
    for f in TRAIN_FILES + (TEST_FILE,):
        parse_batch(folder / f)
    class_names(folder)
    target = data_dir / FOLDER
    present = [f for f in ALL_FILES if (folder / f).is_file()]
    if target.exists() and target.resolve() == folder.resolve():
        return [("cifar10", f"{FOLDER}/{f}", "already present (contents checked)") for f in present]
    rows = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for f in present:
            tmp = target / f".{f}.partial"
            shutil.copyfile(folder / f, tmp)
            os.replace(tmp, target / f)
            rows.append(("cifar10", f"{FOLDER}/{f}", "imported (contents checked)"))
    except OSError as exc:
        raise NnlabError(f"could not copy {folder} to {target}: {exc.strerror or exc}") from None
    return rows
