"""What the data dir holds (`nnlab data status`) and filling it (`nnlab data import PATH`).

Only regular files are read. A file whose size is not the published one is refused without
reading it whole; the rest are checked against their md5 while they are copied, and renamed
into place only when the copy is whole and right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nnlab.core.data.atomic import atomic_output, md5sum
from nnlab.core.data.cache import check_data_dir, writable_data_dir
from nnlab.core.data.cifar import ALL_FILES, BATCH_FILES, FOLDER, class_names, complete, parse_batch
from nnlab.core.data.specs import DATASET_NAMES, ArchiveSpec, archive_spec
from nnlab.errors import NnlabError


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
    check_data_dir(data_dir)
    rows = []
    for name in names:
        spec = archive_spec(name)
        for filename, md5 in spec.files:
            path = spec.path(data_dir, filename)
            extracted = path.with_suffix("") if filename.endswith(".gz") else None
            if name == "cifar10":  # its archive unpacks to a folder of python batches
                extracted = data_dir / FOLDER
            if path.exists():
                rows.append(_row(spec, filename, md5, path))
            elif extracted is not None and extracted.exists():
                files = [p for p in extracted.iterdir() if p.is_file()] if extracted.is_dir() else [extracted]
                size = sum(p.stat().st_size for p in files if p.is_file())
                rows.append(FileStatus(name, extracted.name, extracted, True, size, None))
            else:
                rows.append(FileStatus(name, filename, path, False, None, None))
    return rows


def _row(spec: ArchiveSpec, filename: str, md5: str, path: Path) -> FileStatus:
    if not path.is_file():  # a folder, FIFO or device where the archive belongs
        return FileStatus(spec.name, filename, path, True, None, False)
    size = path.stat().st_size
    return FileStatus(spec.name, filename, path, True, size, spec.size_ok(filename, size) and md5sum(path) == md5)


def _candidates(source: Path, filename: str) -> list[Path]:
    """Regular files called `filename`: `source` itself, or anywhere below the folder `source`."""
    if source.is_file():
        return [source] if source.name == filename else []
    return sorted(p for p in source.rglob(filename) if p.is_file())


def import_archives(source: Path, data_dir: Path, names: tuple[str, ...] = DATASET_NAMES) -> list[tuple[str, str, str]]:
    """Copy the canonical archives found under `source` into `data_dir`, verifying each md5.

    MNIST and Fashion-MNIST share file names, so a file is claimed by the dataset whose
    checksum it matches. A file of a canonical name that matches no known checksum is
    refused (corrupt or truncated) and nothing of it is left in `data_dir`.
    Returns (dataset, file, outcome) rows; raises NnlabError when nothing usable was found,
    or when the data dir cannot take the files.
    """
    if not source.exists():
        raise NnlabError(f"{source} does not exist; give the folder that holds the downloaded archives")
    writable_data_dir(data_dir)
    specs = [archive_spec(name) for name in names]
    known = {md5 for spec in specs for _, md5 in spec.files}
    sums: dict[Path, str] = {}
    done: list[tuple[str, str, str]] = []
    refused: set[Path] = set()
    for spec in specs:
        for filename, md5 in spec.files:
            found = _candidates(source, filename)
            for path in found:
                if path not in sums:  # a wrong size cannot be the file: no need to read it
                    sums[path] = md5sum(path) if _plausible(specs, filename, path) else "size"
            match = next((p for p in found if sums[p] == md5), None)
            refused.update(p for p in found if sums[p] not in known)
            if match is None:
                continue
            target = spec.path(data_dir, filename)
            if target.is_file() and spec.size_ok(filename, target.stat().st_size) and md5sum(target) == md5:
                done.append((spec.name, filename, "already present"))
                continue
            copy_verified(match, target, md5, spec.sizes.get(filename))
            done.append((spec.name, filename, "imported"))
    for path in sorted(refused):
        done.append(("?", path.name, f"refused: {path} matches no canonical checksum (corrupt or truncated)"))
    if "cifar10" in names and not any(d == "cifar10" for d, *_ in done) and source.is_dir():
        done += import_extracted(source, data_dir)
    if not done:
        raise NnlabError(
            f"no canonical archives found in {source}; expected files such as "
            "train-images-idx3-ubyte.gz (MNIST, Fashion-MNIST), cifar-10-python.tar.gz or its extracted "
            "cifar-10-batches-py folder"
        )
    return done


def _plausible(specs: list[ArchiveSpec], filename: str, path: Path) -> bool:
    size = path.stat().st_size
    return any(spec.size_ok(filename, size) for spec in specs if filename in dict(spec.files))


def copy_verified(source: Path, target: Path, md5: str, size: int | None = None) -> None:
    """Copy `source` to `target`, renamed into place only once its md5 is right."""
    try:
        with open(source, "rb") as src, atomic_output(target, limit=size) as sink:
            sink.copy_from(src)
            if sink.md5.hexdigest() != md5:
                raise NnlabError(f"the copy of {source} does not match its checksum (it changed while "
                                 "being copied?); nothing was kept")
    except OSError as exc:
        raise NnlabError(f"cannot read {source} ({exc.strerror or exc})") from None
    if target.suffix == ".gz":  # an extracted copy of an older archive would shadow this one
        stale = target.with_suffix("")
        if stale.is_file():
            stale.unlink()


def import_extracted(source: Path, data_dir: Path) -> list[tuple[str, str, str]]:
    """Copy an extracted `cifar-10-batches-py` folder into `data_dir`, reading every file first.

    Each batch goes through the restricted reader before it is copied, so a foreign object or
    a truncated file is refused at import, not at training time. Returns (dataset, file,
    outcome) rows like `import_archives`; raises NnlabError when a file is bad.
    """
    folder = source if source.name == FOLDER else next(iter(sorted(source.rglob(FOLDER))), None)
    if folder is None or not folder.is_dir():
        return []
    if not complete(folder):
        missing = [f for f in BATCH_FILES if not (folder / f).is_file()]
        raise NnlabError(f"{folder} lacks {', '.join(missing)}; it is not a whole cifar-10-batches-py folder")
    for f in BATCH_FILES:
        parse_batch(folder / f)
    class_names(folder)
    target = writable_data_dir(data_dir) / FOLDER
    present = [f for f in ALL_FILES if (folder / f).is_file()]
    if target.exists() and target.resolve() == folder.resolve():
        return [("cifar10", f"{FOLDER}/{f}", "already present (contents checked)") for f in present]
    if target.exists() and not target.is_dir():
        raise NnlabError(f"{target} is a file where the folder {FOLDER} belongs; move it away and try again")
    rows = []
    for f in present:
        try:
            with open(folder / f, "rb") as src, atomic_output(target / f) as sink:
                sink.copy_from(src)
        except OSError as exc:
            raise NnlabError(f"cannot read {folder / f} ({exc.strerror or exc})") from None
        rows.append(("cifar10", f"{FOLDER}/{f}", "imported (contents checked)"))
    return rows
