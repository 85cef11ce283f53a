"""Downloading the canonical archives with torchvision's downloader, and saying clearly
what is missing when that is not possible.

Files are fetched into a staging folder inside the data dir, checked against their md5,
and only then moved into place, so a failed or interrupted download leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
from pathlib import Path

from nnlab.core.data.atomic import deferred_signals
from nnlab.core.data.cache import is_writable
from nnlab.core.data.specs import archive_spec, download_urls
from nnlab.errors import DataUnavailable

DOWNLOAD_TIMEOUT_S = 10  # per connection; offline machines fail fast, slow links still work


def offline() -> bool:
    """True when $NNLAB_OFFLINE asks nnlab never to try the network (tests set it)."""
    return os.environ.get("NNLAB_OFFLINE", "").lower() not in ("", "0", "false", "no")


def expected_files(name: str) -> str:
    """The canonical file names of `name`, for messages."""
    if name == "cifar10":
        return "cifar-10-python.tar.gz or its extracted cifar-10-batches-py/ folder"
    return ", ".join(f for f, _ in archive_spec(name).files)


def where(name: str, data_dir: Path) -> Path:
    """The folder that should hold `name`'s files."""
    return data_dir / archive_spec(name).folder if name != "cifar10" else data_dir


def download(name: str, data_dir: Path, allowed: bool = True) -> None:
    """Fetch `name`'s canonical archives into `data_dir`; DataUnavailable when that fails.

    The error is one line: where the files were expected, what was tried and why it failed.
    `load_dataset` adds the fix.
    """
    from torchvision.datasets.utils import download_url

    missing = f"{name} not found in {where(name, data_dir)} (expected {expected_files(name)})"
    if not allowed or offline():
        why = "$NNLAB_OFFLINE is set" if offline() else "downloads are off"
        raise DataUnavailable(f"{missing}; {why}")
    if not is_writable(data_dir):
        raise DataUnavailable(f"{missing}; the data dir is read-only, so nothing was downloaded into it")
    spec = archive_spec(name)
    staging = data_dir / f".download-{os.getpid()}"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        for filename, md5 in spec.files:
            target = spec.path(data_dir, filename)
            if target.is_file():
                continue
            urls = download_urls(name, filename)
            for url in urls:
                try:
                    with contextlib.redirect_stdout(io.StringIO()):  # torchvision's own chatter
                        download_url(url, str(staging), filename=filename, md5=md5)
                    break
                except Exception as exc:  # any network or disk failure: try the next mirror
                    failure = exc
            else:
                tried = " and ".join(urls)
                raise DataUnavailable(f"{missing}; downloading {tried} failed ({_one_line(failure)})")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / filename, target)
    except OSError as exc:
        raise DataUnavailable(f"{missing}; the download could not be saved ({exc.strerror or exc})") from None
    finally:
        socket.setdefaulttimeout(previous)
        with deferred_signals():  # a second Ctrl-C must not stop the clean-up half-way
            shutil.rmtree(staging, ignore_errors=True)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
