"""Where each dataset's canonical archives live on disk, their checksums, and importing them.

The file names and md5 sums come from torchvision's own dataset classes, so nnlab checks
exactly what torchvision's downloader would fetch.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nnlab.errors import NnlabError

DATASET_NAMES = ("mnist", "fashion-mnist", "cifar10")


@dataclass(frozen=True)
class ArchiveSpec:
    """The canonical files of one dataset, relative to the data directory."""

    name: str  # nnlab's name for it
    folder: str  # sub-folder of the data dir torchvision uses
    files: tuple[tuple[str, str], ...]  # (file name, md5)

    def path(self, data_dir: Path, filename: str) -> Path:
        """Where `filename` belongs under `data_dir`."""
        return data_dir / self.folder / filename


def archive_spec(name: str) -> ArchiveSpec:
    """The spec for `name` (mnist, fashion-mnist or cifar10)."""
    from torchvision import datasets  # heavy: import only when data is touched

    if name == "mnist":
        return ArchiveSpec("mnist", "MNIST/raw", tuple(datasets.MNIST.resources))
    if name == "fashion-mnist":
        return ArchiveSpec("fashion-mnist", "FashionMNIST/raw", tuple(datasets.FashionMNIST.resources))
    if name == "cifar10":
        return ArchiveSpec("cifar10", ".", ((datasets.CIFAR10.filename, datasets.CIFAR10.tgz_md5),))
    raise NnlabError(f"unknown dataset '{name}'; choose one of {', '.join(DATASET_NAMES)}")


def default_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, else `$NNLAB_DATA`, else the per-user cache."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("NNLAB_DATA"):
        return Path(os.environ["NNLAB_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "nnlab" / "data"


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    """The md5 hex digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class FileStatus:
    """What the data dir holds of one canonical file."""

    dataset: str
    filename: str
    path: Path
    present: bool
    size: int | None
    checksum_ok: bool | None  # None: not checked (file absent, or only its extracted form is there)


def status(data_dir: Path, names: tuple[str, ...] = DATASET_NAMES) -> list[FileStatus]:
    """One row per canonical file of each dataset in `names`."""
    rows = []
    for name in names:
        spec = archive_spec(name)
        for filename, md5 in spec.files:
            path = spec.path(data_dir, filename)
            extracted = path.with_suffix("") if filename.endswith(".gz") else None
            if name == "cifar10":  # its archive unpacks to a folder of python batches
                extracted = data_dir / "cifar-10-batches-py"
            if path.exists():
                rows.append(FileStatus(name, filename, path, True, path.stat().st_size, md5sum(path) == md5))
            elif extracted is not None and extracted.exists():
                size = (sum(p.stat().st_size for p in extracted.iterdir() if p.is_file()) if extracted.is_dir()
                        else extracted.stat().st_size)
                rows.append(FileStatus(name, extracted.name, extracted, True, size, None))
            else:
                rows.append(FileStatus(name, filename, path, False, None, None))
    return rows


def _candidates(source: Path, filename: str) -> list[Path]:
    """Files called `filename`: `source` itself, or anywhere below the folder `source`."""
    if source.is_file():
        return [source] if source.name == filename else []
    return sorted(p for p in source.rglob(filename) if p.is_file())


def import_archives(source: Path, data_dir: Path, names: tuple[str, ...] = DATASET_NAMES) -> list[tuple[str, str, str]]:
    """Copy the canonical archives found under `source` into `data_dir`, verifying each md5.

    MNIST and Fashion-MNIST share file names, so a file is claimed by the dataset whose
    checksum it matches. A file of a canonical name that matches no known checksum is
    refused (corrupt or truncated) and nothing of it is left in `data_dir`.
    Returns (dataset, file, outcome) rows; raises NnlabError when nothing usable was found.
    """
    if not source.exists():
        raise NnlabError(f"{source} does not exist; give the folder that holds the downloaded archives")
    specs = [archive_spec(name) for name in names]
    known = {md5 for spec in specs for _, md5 in spec.files}
    sums: dict[Path, str] = {}
    done: list[tuple[str, str, str]] = []
    refused: set[Path] = set()
    for spec in specs:
        for filename, md5 in spec.files:
            found = _candidates(source, filename)
            for path in found:
                sums.setdefault(path, md5sum(path))
            match = next((p for p in found if sums[p] == md5), None)
            refused.update(p for p in found if sums[p] not in known)
            if match is None:
                continue
            target = spec.path(data_dir, filename)
            if target.exists() and md5sum(target) == md5:
                done.append((spec.name, filename, "already present"))
                continue
            _copy_verified(match, target, md5)
            done.append((spec.name, filename, "imported"))
    for path in sorted(refused):
        done.append(("?", path.name, f"refused: {path} matches no canonical checksum (corrupt or truncated)"))
    if "cifar10" in names and not any(d == "cifar10" for d, *_ in done) and source.is_dir():
        from nnlab.core.cifar import import_extracted  # reads every batch with its restricted unpickler

        done += import_extracted(source, data_dir)
    if not done:
        raise NnlabError(
            f"no canonical archives found in {source}; expected files such as "
            "train-images-idx3-ubyte.gz (MNIST, Fashion-MNIST), cifar-10-python.tar.gz or its extracted "
            "cifar-10-batches-py folder"
        )
    return done


def _copy_verified(source: Path, target: Path, md5: str) -> None:
    """Copy via a temporary file renamed into place only once its checksum is right."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        shutil.copyfile(source, tmp)
        if md5sum(tmp) != md5:
            raise OSError("the copy does not match its source's checksum")
        os.replace(tmp, target)
        _drop_stale_extraction(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NnlabError(f"could not copy {source} to {target}: {exc}") from None


def _drop_stale_extraction(archive: Path) -> None:
    """An extracted copy from an older archive would shadow the new one; remove it."""
    if archive.suffix == ".gz":
        archive.with_suffix("").unlink(missing_ok=True)


def gunzip_atomic(archive: Path, target: Path) -> None:
    """Decompress `archive` to `target`, leaving no partial file if it is corrupt."""
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with gzip.open(archive, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, target)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        tmp.unlink(missing_ok=True)
        raise NnlabError(
            f"{archive} is corrupt or truncated ({exc}); delete it and import a good copy "
            "with `nnlab data import PATH`"
        ) from None
