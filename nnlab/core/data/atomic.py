"""Writing a file so that it is whole or absent: bounded copies into a temporary file,
renamed into place, removed on any failure, Ctrl-C or SIGTERM included.

While a temporary file exists, SIGINT and SIGTERM are only noted; the copy stops at its next
chunk, deletes the temporary file, and then the signal is delivered as it would have been.
So no signal, at any moment, leaves a `.partial` file behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import signal
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from nnlab.errors import NnlabError

CHUNK = 1 << 20  # bytes per read: a signal waits at most one chunk
DEFERRED = (signal.SIGINT, signal.SIGTERM)
HOST = re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname())[:64] or "host"


class Stopped(Exception):
    """A deferred signal arrived: stop writing (the signal is delivered after clean-up)."""


class SignalGuard:
    """Notes SIGINT/SIGTERM instead of acting on them; `check()` raises Stopped once one came."""

    def __init__(self) -> None:
        self.pending: list[int] = []

    def note(self, signum: int, frame) -> None:
        """The stand-in handler: remember the signal, raise nothing."""
        self.pending.append(signum)

    def check(self) -> None:
        """Raise Stopped when a signal is waiting."""
        if self.pending:
            raise Stopped


@contextmanager
def deferred_signals() -> Iterator[SignalGuard]:
    """Hold SIGINT and SIGTERM for the block, then deliver the first one to its own handler."""
    guard = SignalGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard  # signals reach only the main thread; nothing to defer here
        return
    previous = {s: signal.signal(s, guard.note) for s in DEFERRED}
    try:
        yield guard
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if guard.pending:
            signal.raise_signal(guard.pending[0])  # the old handler runs now (KeyboardInterrupt, ...)


class Sink:
    """The temporary file being written: `write` refuses to grow past `limit` bytes."""

    def __init__(self, fh: BinaryIO, guard: SignalGuard, limit: int | None, target: Path):
        self.fh, self.guard, self.limit, self.target = fh, guard, limit, target
        self.written = 0
        self.md5 = hashlib.md5()

    def write(self, block: bytes) -> None:
        """Append `block`; NnlabError once the total would pass the limit."""
        self.guard.check()
        self.written += len(block)
        if self.limit is not None and self.written > self.limit:
            raise NnlabError(f"{self.target.name} would grow past {self.limit:,} bytes, the most the "
                             "published file holds; stopped, and nothing of it was kept")
        self.md5.update(block)
        with _writing(self.target, "write"):
            self.fh.write(block)

    def copy_from(self, src: BinaryIO, n: int | None = None) -> None:
        """Copy `n` bytes from `src` (all of it when None); NnlabError when it ends sooner."""
        left = n
        while left is None or left > 0:
            block = src.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                if left is not None:
                    raise EOFError(f"it ends {left:,} bytes early")
                return
            self.write(block)
            if left is not None:
                left -= len(block)


@contextmanager
def atomic_output(target: Path, limit: int | None = None) -> Iterator[Sink]:
    """Write `target` through a Sink: renamed into place only when the block ends normally.

    Any exception, or a deferred signal, removes the temporary file. Failing to write (a
    full disk, a read-only folder, a folder in the file's place) is one NnlabError naming the
    path and the cause; errors reading the source pass through unchanged.
    """
    # a name of this writer's own: processes that fill the same file at once (tune workers on a
    # fresh data dir) each rename a whole file into place and never touch each other's
    tmp = target.with_name(f".{target.name}.{HOST}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    stopped = False
    with deferred_signals() as guard:
        try:
            if target.is_dir() and not target.is_symlink():
                raise NnlabError(f"{target} is a folder where the file {target.name} belongs; move it "
                                 "away and try again")
            with _writing(target, "create"):
                target.parent.mkdir(parents=True, exist_ok=True)
                _sweep_stale(target)
                fh = os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb")
            try:
                yield Sink(fh, guard, limit, target)
                with _writing(target, "finish"):
                    fh.flush()  # a full disk shows here, not in close()
            finally:
                fh.close()
            guard.check()
            with _writing(target, "finish"):
                os.replace(tmp, target)
        except Stopped:
            stopped = True
            _discard(tmp)  # the signal itself is delivered on leaving the guard
        except BaseException:
            _discard(tmp)
            raise
    if stopped:  # its handler raised nothing (the signal is ignored): still, nothing was written
        raise NnlabError(f"writing {target} was interrupted; nothing of it was kept")


def _sweep_stale(target: Path) -> None:
    """Remove `target`'s temporary files that no live writer owns: those of this host's dead
    processes (killed by SIGKILL) and the single-name ones of older versions (or planted
    symlinks). Unlinking never follows a link; another host's files are left to it."""
    prefix = f".{target.name}."
    for entry in os.scandir(target.parent):
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".partial")):
            continue
        owner = re.fullmatch(rf"{re.escape(HOST)}\.(\d+)-[0-9a-f]+", name[len(prefix):-len(".partial")])
        if name == f"{prefix}partial" or (owner and not _alive(int(owner[1]))):
            _discard(Path(entry.path))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # someone else's live process
        return True
    except (ProcessLookupError, OverflowError):  # gone, or a pid no system hands out
        return False
    return True


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # its folder is gone or unusable: then so is the file
        pass


@contextmanager
def _writing(target: Path, step: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise NnlabError(f"cannot {step} {target} ({exc.strerror or exc}); check that its folder "
                         "exists and that you may write there") from None


def md5sum(path: Path, chunk: int = CHUNK) -> str:
    """The md5 hex digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
