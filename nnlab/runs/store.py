"""RunStore: one directory per run, plain files, safe against crashes, Ctrl-C and full disks.

Layout of a run directory::

    run.json        command, argv, config, seed, status, start/end, versions, device, host, git
    metrics.jsonl   one JSON object per line: step, epoch, split, name, value, time
    summary.json    final metrics
    console.log     what the run printed, plain text, appended live (size-capped)
    artifacts/      figures, tables, state dicts

JSON files are written atomically (temp file + rename); metrics are append-only, and a
reader ignores a last line cut short by a crash. Readers treat every file as hostile (see
nnlab.runs.files). Nothing here deletes or writes outside the runs root.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import stat
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from nnlab.errors import EXIT_FAILED, NnlabError
from nnlab.runs.files import CONSOLE_FILE  # noqa: F401  (the layout's names, for readers)
from nnlab.runs.files import (ARTIFACTS_DIR, METRICS_FILE, RUN_FILE, RUN_JSON_CAP, SUMMARY_FILE, Unreadable,
                              read_json_object, read_metrics_file, walk_files)
from nnlab.runs.provenance import git_info, versions
from nnlab.runs.writer import RunWriter

STATUSES = ("running", "completed", "failed", "interrupted")
# <start time>_<command>_<6 hex digits>, as RunStore.create names a run folder
RUN_ID = re.compile(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_.+_[0-9a-f]{6}")
HOST = socket.gethostname()


def default_runs_dir(runs_dir: str | Path | None = None) -> Path:
    """The runs root: the argument, else `$NNLAB_RUNS`, else `./runs`."""
    if runs_dir:
        return Path(runs_dir).expanduser()
    return Path(os.environ.get("NNLAB_RUNS") or "runs")


# Fields readers rely on, with the types they must have when present: a hand-edited or
# foreign run.json with e.g. a numeric command is reported unreadable, not crashed on.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "command": (str,), "status": (str,), "config": (dict,), "parent": (str, type(None)),
    "start_time": (int, float, type(None)), "end_time": (int, float, type(None)),
}


def _check_fields(info: dict) -> None:
    for name, types in _FIELD_TYPES.items():
        if name in info and not isinstance(info[name], types):
            raise Unreadable(f"field '{name}' is a {type(info[name]).__name__}")


@dataclass
class Run:
    """A run as read from disk: run.json eagerly, metrics and summary on demand.

    A run whose run.json is missing or corrupt is still listed, with `error` saying why.
    """

    path: Path
    info: dict = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def load(cls, path: Path) -> "Run":
        """Read the run at `path`; never raises for a broken run, sets `error` instead."""
        try:
            info = read_json_object(path / RUN_FILE, RUN_JSON_CAP)
            _check_fields(info)
        except FileNotFoundError:
            return cls(path, {}, "run.json is missing (half-written run?)")
        except Unreadable as exc:
            return cls(path, {}, f"run.json is unreadable: {exc}")
        except OSError as exc:
            return cls(path, {}, f"run.json is unreadable: {exc.strerror or exc}")
        return cls(path, info, None)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def location(self) -> str:
        """The run folder's path as text (what a listing prints)."""
        return str(self.path)

    @property
    def command(self) -> str:
        return self.info.get("command", "?")

    @property
    def status(self) -> str:
        return "unreadable" if self.error else self.info.get("status", "?")

    @property
    def config(self) -> dict:
        return self.info.get("config", {})

    @property
    def parent(self) -> str | None:
        return self.info.get("parent")

    @property
    def started(self) -> float | None:
        return self.info.get("start_time")

    @property
    def ended(self) -> float | None:
        return self.info.get("end_time")

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now for a running run)."""
        start = self.started
        if start is None:
            return None
        end = self.ended or (time.time() if self.status == "running" else None)
        return None if end is None else end - start

    def process_state(self) -> str:
        """For a run marked running: `alive` (its process runs on this host), `gone` (it
        crashed or was killed) or `unknown` (another host's run, e.g. rsynced); else `ended`."""
        if self.status != "running":  # an unreadable run's status is `unreadable`
            return "ended"
        pid, host = self.info.get("pid"), self.info.get("host")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or host != HOST:
            return "unknown"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return "gone"
        except (PermissionError, OSError):
            return "alive"  # it exists, as another user's process
        return "alive"

    def metrics(self) -> list[dict]:
        """All metric records, in the order they were written (up to the metrics cap)."""
        return read_metrics_file(self.path / METRICS_FILE)

    def summary(self) -> dict:
        """The final metrics, or {} when the run has none (yet) or they are unreadable."""
        try:
            return read_json_object(self.path / SUMMARY_FILE, RUN_JSON_CAP)
        except (OSError, Unreadable):
            return {}

    def artifact(self, name: str) -> Path | None:
        """The path of this run's artifact `name`, or None when the run has no such file."""
        path = self.path / ARTIFACTS_DIR / name
        return path if ".." not in Path(name).parts and path.is_file() else None

    def artifacts(self) -> list[Path]:
        """Regular files under artifacts/, sorted (symlinks not followed, count capped)."""
        return walk_files(self.path / ARTIFACTS_DIR)


class RunStore:
    """All runs under one root directory."""

    def __init__(self, root: str | Path | None = None):
        self.root = default_runs_dir(root)

    def create(self, command: str, config: dict, *, argv: list[str] | None = None,
               seed: int | None = None, device: str | None = None,
               parent: str | None = None) -> RunWriter:
        """Start a new run directory, status running. Raises NnlabError if the root is unwritable."""
        now = datetime.now()
        run_id = f"{now.strftime('%Y-%m-%dT%H-%M-%S')}_{command.replace(' ', '-')}_{secrets.token_hex(3)}"
        path = self.root / run_id
        try:
            (path / ARTIFACTS_DIR).mkdir(parents=True)
        except OSError as exc:
            raise NnlabError(
                f"cannot write runs under {self.root}: {exc.strerror or exc}; "
                "pass a writable --runs-dir or set $NNLAB_RUNS"
            ) from None
        info = {
            "id": run_id, "command": command,
            "argv": list(sys.argv if argv is None else argv),
            "config": config, "seed": seed, "status": "running",
            "start": now.isoformat(timespec="seconds"), "start_time": now.timestamp(),
            "end": None, "end_time": None, "versions": versions(), "device": device,
            "host": HOST, "pid": os.getpid(), "git": git_info(), "parent": parent,
        }
        try:
            return RunWriter(path, info)
        except NnlabError:
            shutil.rmtree(path, ignore_errors=True)  # ours, just made: leave no half-written run
            raise

    def paths(self) -> list[Path]:
        """Run directories, oldest first (ids start with the start time)."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and _is_dir(e))

    def runs(self) -> list[Run]:
        """Every run, oldest first; broken ones included with their error."""
        return [Run.load(p) for p in self.paths()]

    def iter_runs(self) -> Iterator[Run]:
        """Like runs(), lazily."""
        return (Run.load(p) for p in self.paths())

    def get(self, ref: str) -> Run:
        """A run by id, unique id prefix or suffix, path, or `latest`."""
        if not ref.strip():
            raise NnlabError("an empty run reference; give a run id, a unique prefix or suffix of one, "
                             "a path, or `latest`")
        if ref == "latest":
            return self._latest()
        if "/" in ref or ref in (".", "..") or ref.startswith("~"):
            return self._at_path(Path(ref).expanduser())
        paths = self.paths()
        exact = [p for p in paths if p.name == ref]
        matches = exact or [p for p in paths if p.name.startswith(ref) or p.name.endswith(ref)]
        if len(matches) == 1:
            return Run.load(matches[0])
        if not matches and (Path(ref) / RUN_FILE).is_file():  # a run folder in the current directory
            return Run.load(Path(ref))
        if not matches:
            raise NnlabError(f"no run matches '{ref}' under {self.root}; see `nnlab runs list`")
        raise NnlabError(f"'{ref}' matches {len(matches)} runs under {self.root}; give more of the id")

    def _latest(self) -> Run:
        paths = self.paths()
        # the newest readable run; ids have one-second resolution, so ties go by start time
        for path in reversed(paths):
            newest = [Run.load(p) for p in paths if p.name[:19] == path.name[:19]]
            readable = [run for run in newest if run.error is None]
            if readable:
                return max(readable, key=lambda run: _number(run.started))
        raise NnlabError(f"no runs (none readable) under {self.root}; run an experiment first")

    def _at_path(self, path: Path) -> Run:
        try:
            resolved, root = path.resolve(), self.root.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise NnlabError(f"no run at {path}: {exc}") from None
        if resolved == root:
            raise NnlabError(f"{path} is the runs root itself, not a run; see `nnlab runs list`")
        if path.is_dir() and ((path / RUN_FILE).exists() or resolved.parent == root):
            return Run.load(path)
        raise NnlabError(f"no run at {path} (no run.json there); see `nnlab runs list`")

    def check_removable(self, run: Run) -> None:
        """Raise NnlabError (exit 2) unless `run` is a real run folder directly under the root
        whose process is not alive on this host.

        Refused: the root itself, anything reached through `..`, `.` or a symlink, anything
        outside the root, and a folder that neither holds a run.json nor is named like a run.
        """
        path = run.path
        refuse = f"refusing to delete {path}"
        if not path.name or any(part in (".", "..") for part in path.parts):
            raise NnlabError(f"{refuse}: give the run's id, not a path through '.' or '..'")
        try:
            mode = path.lstat().st_mode
            root, resolved = self.root.resolve(), path.resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise NnlabError(f"{refuse}: {getattr(exc, 'strerror', None) or exc}") from None
        if stat.S_ISLNK(mode):
            raise NnlabError(f"{refuse}: it is a symbolic link, not a run folder")
        if not stat.S_ISDIR(mode):
            raise NnlabError(f"{refuse}: not a folder")
        if resolved == root or resolved.parent != root:
            raise NnlabError(f"{refuse}: not a run folder directly under the runs root {self.root}")
        if not (RUN_ID.fullmatch(path.name) or _is_regular(path / RUN_FILE)):
            raise NnlabError(f"{refuse}: it holds no run.json and is not named like a run")
        if run.process_state() == "alive":
            pid = run.info.get("pid")
            raise NnlabError(f"run {run.id} is still running (process {pid} on this host); stop it first "
                             f"(Ctrl-C where it runs, or `kill {pid}`), then delete it")

    def remove(self, run: Run) -> None:
        """Delete a run's folder after check_removable; NnlabError (exit 1) if deleting fails."""
        self.check_removable(run)
        try:
            shutil.rmtree(run.path)
        except OSError as exc:
            raise NnlabError(f"cannot delete {run.path}: {exc.strerror or exc}", EXIT_FAILED) from None

    def check_output(self, path: Path) -> None:
        """Raise NnlabError unless `path` may receive an export: never inside the runs root or a run folder."""
        try:
            target, root = path.resolve(), self.root.resolve()
        except (OSError, RuntimeError) as exc:
            raise NnlabError(f"cannot write {path}: {exc}") from None
        if target == root or root in target.parents:
            raise NnlabError(f"refusing to write {path}: it is inside the runs root {self.root}; "
                             "write the export somewhere else")
        for folder in target.parents:
            if (folder / RUN_FILE).exists():
                raise NnlabError(f"refusing to write {path}: it is inside the run folder {folder}; "
                                 "write the export somewhere else")


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and value == value else 0.0
