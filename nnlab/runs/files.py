"""Run files on disk, read as hostile and written atomically.

Reading: only regular files are opened (a FIFO or /dev/zero in a run folder must not hang
or flood a reader), each kind of file has a size cap, JSON deeper than MAX_DEPTH is refused,
and undecodable bytes never raise. Writing: JSON goes to a temp file that is renamed over
the target, and every OS error becomes one NnlabError naming the path and the cause.
"""

from __future__ import annotations

import json
import os
import re
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

from nnlab.errors import EXIT_FAILED, NnlabError

# the files of a run folder (see nnlab.runs.store)
RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CONSOLE_FILE = "console.log"
ARTIFACTS_DIR = "artifacts"

RUN_JSON_CAP = 1_000_000  # run.json and summary.json hold a config and a few numbers
METRICS_CAP = 64_000_000  # ~600,000 metric records; beyond that a reader stops
CONSOLE_LOG_CAP = 5_000_000  # console.log stops growing here, with one line saying so
MAX_DEPTH = 64  # nesting of any JSON value a run file may hold
MAX_FILES = 10_000  # artifacts listed per run
MAX_TREE_DEPTH = 8  # folder levels under artifacts/ that are listed


class Unreadable(ValueError):
    """A run file that cannot be used; the message says why, in a few words."""


def read_regular(path: Path, cap: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `cap` bytes.

    Raises FileNotFoundError when absent, Unreadable for a FIFO, device, folder or an
    oversized file, and OSError for other failures (no permission, I/O error).
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("not a regular file")
        if info.st_size > cap:
            raise Unreadable(f"{info.st_size:,} bytes, over the {cap:,} it may hold")
        parts, size = [], 0
        while size <= cap:
            part = os.read(fd, cap + 1 - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        data = b"".join(parts)
    finally:
        os.close(fd)
    if len(data) > cap:  # grew while we looked
        raise Unreadable(f"over the {cap:,} bytes it may hold")
    return data


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise Unreadable when lists and objects nest deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise Unreadable(f"nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_json(data: bytes | str) -> Any:
    """JSON from a run file; Unreadable for bad UTF-8, bad JSON or deep nesting (never RecursionError)."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise Unreadable(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise Unreadable(f"not valid JSON ({str(exc)[:80]})") from None
    check_depth(value)
    return value


def read_json_object(path: Path, cap: int = RUN_JSON_CAP) -> dict:
    """A JSON object from a regular file of at most `cap` bytes; raises OSError or Unreadable."""
    value = parse_json(read_regular(path, cap))
    if not isinstance(value, dict):
        raise Unreadable("not a JSON object")
    return value


def parse_metric_lines(chunk: bytes) -> list[dict]:
    """Metric records from complete lines; garbled, deep or non-object lines are skipped."""
    rows = []
    for line in chunk.splitlines():
        try:
            row = parse_json(line)
        except Unreadable:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def read_metrics_file(path: Path, cap: int = METRICS_CAP) -> list[dict]:
    """Records of a metrics.jsonl: a final line cut short by a crash is skipped, and past
    `cap` bytes reading stops. A missing or unreadable file gives []."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return []
        with os.fdopen(fd, "rb", closefd=False) as fh:  # buffered: metrics files are large
            chunk = fh.read(cap)
    except OSError:
        return []
    finally:
        os.close(fd)
    # everything up to the last newline is intact; a write interrupted mid-line is not
    return parse_metric_lines(chunk[:chunk.rfind(b"\n") + 1])


def read_tail(path: Path, offset: int, limit: int) -> tuple[bytes, int]:
    """Up to `limit` bytes of a regular file from `offset`, cut after the last newline,
    and the offset to read from next. A missing, special or unreadable file gives no bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return b"", offset
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size <= offset:
            return b"", offset
        os.lseek(fd, offset, os.SEEK_SET)
        chunk = os.read(fd, min(limit, info.st_size - offset))  # no buffer bigger than what is there
    except OSError:
        return b"", offset
    finally:
        os.close(fd)
    end = chunk.rfind(b"\n")
    return (b"", offset) if end < 0 else (chunk[:end + 1], offset + end + 1)


def walk_files(folder: Path) -> list[Path]:
    """Regular files under `folder`, sorted; symlinks are not followed, and at most
    MAX_FILES files and MAX_TREE_DEPTH levels are listed (unreadable folders are skipped)."""
    found: list[Path] = []
    stack = [(folder, 0)]
    while stack and len(found) < MAX_FILES:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        found.append(Path(entry.path))
                    elif entry.is_dir(follow_symlinks=False) and depth < MAX_TREE_DEPTH:
                        stack.append((Path(entry.path), depth + 1))
        except OSError:
            continue
    return sorted(found[:MAX_FILES])


# ---- writing ------------------------------------------------------------------------------

def write_error(path: Path, exc: OSError) -> NnlabError:
    """The one-line error for a failed write: the path and the cause (disk full, read-only...)."""
    return NnlabError(f"cannot write {path}: {exc.strerror or exc}", EXIT_FAILED)


def check_replaceable(path: Path) -> None:
    """Raise NnlabError (exit 2) unless `path` is absent or a regular file (through links):
    renaming over /dev/null or /dev/stdout would replace the device itself."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise NnlabError(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise NnlabError(f"cannot write {path}: it is a folder; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        raise NnlabError(f"refusing to replace {path}: not a regular file (a device, FIFO or socket); "
                         "give a file name")


@contextmanager
def atomic_output(path: Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """A text file that replaces `path` only when the block ends without error.

    Readers see the old file or the new one, never half of one; on any error the temp
    file is removed and an OSError is raised as NnlabError naming `path`. Only a regular
    file (or nothing) is replaced: a rename over /dev/null, a FIFO or a folder is refused.
    """
    check_replaceable(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write `obj` as JSON atomically (see atomic_output)."""
    with atomic_output(path) as fh:
        json.dump(obj, fh, indent=2, default=_json_default)
        fh.write("\n")


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays, Paths and tensors reach us from experiments
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# ANSI CSI sequences (colours, cursor moves), OSC sequences (titles, links) and lone escapes
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class ConsoleLog:
    """console.log of a run: what it printed, as plain text, appended and flushed live.

    Escape sequences are stripped; past `cap` bytes one line says the log was truncated
    and the rest is dropped. Has the file methods a Rich Console writes through.
    """

    encoding = "utf-8"

    def __init__(self, path: Path, cap: int = CONSOLE_LOG_CAP):
        self.path = path
        self.cap = cap
        self._fh: IO[bytes] | None = None  # opened by the first write, so a failure is that write's
        self._size = 0
        self.truncated = False
        self.closed = False

    def write(self, text: str) -> int:
        """Append `text` without its escape sequences; returns len(text) as a file does."""
        if self.truncated or self.closed:
            return len(text)
        if self._fh is None:
            try:
                self._fh = open(self.path, "ab")
            except OSError as exc:
                self.truncated = True
                raise write_error(self.path, exc) from None
            self._size = self._fh.tell()
        data = _ANSI.sub("", text).encode("utf-8", "replace")
        if self._size + len(data) > self.cap:
            data = data[:max(0, self.cap - self._size)]
            data = data[:data.rfind(b"\n") + 1] + f"[console.log truncated at {self.cap:,} bytes]\n".encode()
            self.truncated = True
        try:
            self._fh.write(data)
            self._fh.flush()
        except OSError as exc:
            self.truncated = True  # one error is enough: do not fail again on every line
            raise write_error(self.path, exc) from None
        self._size += len(data)
        return len(text)

    def flush(self) -> None:
        """Written already: each write is flushed."""

    def isatty(self) -> bool:
        """Never a terminal: Rich then writes no colours and no cursor moves."""
        return False

    def close(self) -> None:
        """Close the file (errors ignored: everything was flushed already); later writes are dropped."""
        self.closed = True
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
