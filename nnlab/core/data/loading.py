"""`load_dataset`: one call from a dataset name and a data dir to resident tensors on a device.

It needs no run: experiments call it before they create their run directory, so missing or
bad data is a one-line error that leaves no failed run behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from nnlab.core.data.cache import check_data_dir, data_dir_origin, default_data_dir
from nnlab.core.data.cifar import load_folder, locate
from nnlab.core.data.digits import load_digits_28
from nnlab.core.data.fetch import download as fetch_files, offline
from nnlab.core.data.idx import load_idx, prepare
from nnlab.core.data.splits import Dataset
from nnlab.errors import DataUnavailable, NnlabError


def _load_idx(name: str, data_dir: Path, allow_download: bool) -> Dataset:
    root = prepare(name, data_dir)
    if root is None:
        fetch_files(name, data_dir, allow_download)
        root = prepare(name, data_dir)
    return load_idx(name, root, data_dir)


def _load_cifar10(name: str, data_dir: Path, allow_download: bool) -> Dataset:
    folder = locate(data_dir)
    if folder is None:
        fetch_files(name, data_dir, allow_download)
        folder = locate(data_dir)
    return load_folder(folder)


def _load_digits(name: str, data_dir: Path, allow_download: bool) -> Dataset:
    return load_digits_28()


LOADERS: dict[str, Callable[[str, Path, bool], Dataset]] = {
    "mnist": _load_idx,
    "fashion-mnist": _load_idx,
    "digits": _load_digits,
    "cifar10": _load_cifar10,
}


def fix_for_missing(data_dir: str | Path | None) -> str:
    """The fix for missing files, fitted to how the data dir was chosen and to $NNLAB_OFFLINE."""
    network = "run with network access" + (" (unset $NNLAB_OFFLINE)" if offline() else "")
    origin = data_dir_origin(data_dir)
    if origin == "argument":
        folder = default_data_dir(data_dir)
        return f"Fix: `nnlab data import PATH --data-dir {folder}` with the files downloaded elsewhere, or {network}"
    if origin == "environment":
        return f"Fix: `nnlab data import PATH` (it fills $NNLAB_DATA) with the files downloaded elsewhere, or {network}"
    return (f"Fix: `nnlab data import PATH` with the files downloaded elsewhere, {network}, "
            "or pass --data-dir DIR naming a folder that holds them")


def load_dataset(name: str, data_dir: str | Path | None = None, *, device: torch.device | str = "cpu",
                 download: bool = True, fallback: bool = False) -> Dataset:
    """Load `name` (mnist, fashion-mnist, digits, cifar10) whole onto `device`.

    Needs only the dataset name, the data dir (None: $NNLAB_DATA, else the user cache) and
    the device, so it can run before any run directory exists. Files absent and not
    downloadable raise DataUnavailable: one line naming the folder, the files expected and
    the fix. With `fallback`, MNIST that cannot be had is replaced by the embedded `digits`
    set and `fallback_reason` says why; bad files always raise NnlabError.
    """
    if name not in LOADERS:
        raise NnlabError(f"unknown dataset '{name}'; choose one of {', '.join(LOADERS)}")
    folder = default_data_dir(data_dir)
    try:
        if name != "digits":
            check_data_dir(folder)
        dataset = LOADERS[name](name, folder, download)
    except DataUnavailable as exc:
        if fallback and name == "mnist":
            dataset = load_digits_28()
            dataset.fallback_reason = exc.message
        else:
            raise DataUnavailable(f"{exc.message}. {fix_for_missing(data_dir)}") from None
    return dataset.to(device)
