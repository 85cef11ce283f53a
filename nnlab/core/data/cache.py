"""Where datasets live on disk: the data dir, and the user cache for read-only ones.

The data dir is `--data-dir`, else `$NNLAB_DATA`, else ~/.cache/nnlab/data. A data dir
nnlab may not write (a shared, read-only copy) is still read; what has to be decompressed
from it goes to the user cache, never into that folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from nnlab.errors import NnlabError


def user_cache() -> Path:
    """nnlab's folder in the user cache: $XDG_CACHE_HOME/nnlab, else ~/.cache/nnlab."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "nnlab"


def default_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, else `$NNLAB_DATA`, else the per-user cache."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("NNLAB_DATA"):
        return Path(os.environ["NNLAB_DATA"]).expanduser()
    return user_cache() / "data"


def data_dir_origin(data_dir: str | Path | None) -> str:
    """How the data dir was chosen: "argument", "environment" ($NNLAB_DATA) or "default"."""
    if data_dir:
        return "argument"
    return "environment" if os.environ.get("NNLAB_DATA") else "default"


def is_writable(folder: Path) -> bool:
    """Whether nnlab may write into `folder` (or, when absent, create it in its nearest parent).

    A folder whose mode grants no write bit counts as read-only even for root, who could
    write it anyway: that mode is how a user says "leave this copy alone".
    """
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        mode = probe.stat().st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and bool(mode & 0o222) and os.access(probe, os.W_OK)


def extraction_root(data_dir: Path) -> Path:
    """A folder in the user cache, one per read-only data dir, for its decompressed files."""
    key = hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return user_cache() / "extracted" / key


def readable_root(data_dir: Path, folder: str = ".") -> Path:
    """The root that files decompressed from `data_dir/folder` go under: `data_dir` itself when
    that folder is writable, else a folder in the user cache."""
    return data_dir if is_writable(data_dir / folder) else extraction_root(data_dir)


def check_data_dir(data_dir: Path) -> None:
    """Refuse a data dir that exists but is not a folder."""
    if data_dir.exists() and not data_dir.is_dir():
        raise NnlabError(f"the data dir {data_dir} is a file, not a folder; pass --data-dir DIR "
                         "naming a folder (it is created when missing)")


def writable_data_dir(data_dir: Path) -> Path:
    """`data_dir`, created when missing; one clear error when it cannot hold new files."""
    check_data_dir(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnlabError(f"cannot create the data dir {data_dir} ({exc.strerror or exc}); "
                         "pass --data-dir DIR naming a folder you can write") from None
    if not is_writable(data_dir):
        raise NnlabError(f"the data dir {data_dir} is read-only; pass --data-dir DIR naming a folder "
                         "you can write (a read-only data dir can still be read)")
    return data_dir
