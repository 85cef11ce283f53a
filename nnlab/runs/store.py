"""RunStore: one directory per run, plain files, safe against crashes and Ctrl-C.

Layout of a run directory (see DESIGN.md)::

    run.json        command, argv, config, seed, status, start/end, versions, device, host, git
    metrics.jsonl   one JSON object per line: step, epoch, split, name, value, time
    summary.json    final metrics
    artifacts/      figures, tables, state dicts

JSON files are written atomically (temp file + rename); metrics are append-only, and a
reader ignores a last line cut short by a crash.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from nnlab import __version__
from nnlab.errors import NnlabError

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
ARTIFACTS_DIR = "artifacts"
STATUSES = ("running", "completed", "failed", "interrupted")


def default_runs_dir(runs_dir: str | Path | None = None) -> Path:
    """The runs root: the argument, else `$NNLAB_RUNS`, else `./runs`."""
    if runs_dir:
        return Path(runs_dir).expanduser()
    return Path(os.environ.get("NNLAB_RUNS") or "runs")


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write `obj` as JSON so that readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, default=_json_default)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays, Paths and tensors reach us from experiments
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_metrics_file(path: Path) -> list[dict]:
    """Read metrics.jsonl, skipping a final line cut short by a crash."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # a write interrupted mid-line: everything before it is intact
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """Versions of Python and the libraries a result depends on."""
    found = {"python": platform.python_version(), "nnlab": __version__}
    for name in ("torch", "torchvision", "numpy"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = getattr(module, "__version__", "?")
    return found


# Fields readers rely on, with the types they must have when present: a hand-edited or
# foreign run.json with e.g. a numeric command is reported unreadable, not crashed on.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "command": (str,), "status": (str,), "config": (dict,), "parent": (str, type(None)),
    "start_time": (int, float, type(None)), "end_time": (int, float, type(None)),
}


def _check_fields(info: dict) -> None:
    for name, types in _FIELD_TYPES.items():
        if name in info and not isinstance(info[name], types):
            raise ValueError(f"field '{name}' is a {type(info[name]).__name__}")


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
        run_file = path / RUN_FILE
        try:
            with open(run_file, encoding="utf-8") as fh:
                info = json.load(fh)
            if not isinstance(info, dict):
                raise ValueError("run.json does not hold an object")
            _check_fields(info)
        except FileNotFoundError:
            return cls(path, {}, "run.json is missing (half-written run?)")
        except (OSError, ValueError) as exc:
            return cls(path, {}, f"run.json is unreadable: {exc}")
        return cls(path, info, None)

    @property
    def id(self) -> str:
        return self.path.name

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
    def duration(self) -> float | None:
        """Seconds from start to end (or to now for a running run)."""
        start = self.info.get("start_time")
        if start is None:
            return None
        end = self.info.get("end_time") or (time.time() if self.status == "running" else None)
        return None if end is None else end - start

    def metrics(self) -> list[dict]:
        """All metric records, in the order they were written."""
        return read_metrics_file(self.path / METRICS_FILE)

    def summary(self) -> dict:
        """The final metrics, or {} when the run has none (yet)."""
        try:
            with open(self.path / SUMMARY_FILE, encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def artifacts(self) -> list[Path]:
        """Files under artifacts/, sorted by name."""
        folder = self.path / ARTIFACTS_DIR
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


class RunWriter:
    """Writes one run. Use as a context manager: it marks the run completed, failed or interrupted."""

    def __init__(self, path: Path, info: dict):
        self.path = path
        self.info = info
        self._metrics = open(path / METRICS_FILE, "a", encoding="utf-8")
        self._summary: dict = {}
        self._t0 = time.time()
        atomic_write_json(path / RUN_FILE, info)

    @property
    def id(self) -> str:
        return self.path.name

    def log_metric(self, name: str, value: float, *, step: int | None = None,
                   epoch: int | None = None, split: str | None = None) -> None:
        """Append one metric record; it is on disk when this returns."""
        row = {"step": step, "epoch": epoch, "split": split, "name": name,
               "value": float(value), "time": round(time.time() - self._t0, 4)}
        self._metrics.write(json.dumps(row) + "\n")
        self._metrics.flush()

    def update(self, **fields: Any) -> None:
        """Merge fields into run.json (for facts learnt while running, e.g. the dataset used)."""
        self.info.update(fields)
        atomic_write_json(self.path / RUN_FILE, self.info)

    def set_summary(self, values: dict) -> None:
        """Merge final metrics into summary.json."""
        self._summary.update(values)
        atomic_write_json(self.path / SUMMARY_FILE, self._summary)

    def artifact_path(self, name: str) -> Path:
        """Where to write artifact `name` (sub-folders are created)."""
        target = self.path / ARTIFACTS_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def finish(self, status: str, error: str | None = None) -> None:
        """Close the run with its final status."""
        if not self._metrics.closed:
            self._metrics.close()
        fields: dict[str, Any] = {"status": status, "end_time": time.time(),
                                  "end": datetime.now().isoformat(timespec="seconds")}
        if error:
            fields["error"] = error
        self.update(**fields)

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish("completed")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("interrupted", "interrupted by the user (Ctrl-C)")
        else:
            message = getattr(exc, "message", None) or f"{exc_type.__name__}: {exc}"
            self.finish("failed", message)
        return False


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
            info = {
                "id": run_id, "command": command,
                "argv": list(sys.argv if argv is None else argv),
                "config": config, "seed": seed, "status": "running",
                "start": now.isoformat(timespec="seconds"), "start_time": now.timestamp(),
                "end": None, "end_time": None, "versions": versions(), "device": device,
                "host": socket.gethostname(), "pid": os.getpid(), "git": _git_commit(),
                "parent": parent,
            }
            return RunWriter(path, info)
        except OSError as exc:
            raise NnlabError(
                f"cannot write runs under {self.root}: {exc.strerror or exc}; "
                "pass a writable --runs-dir or set $NNLAB_RUNS"
            ) from None

    def paths(self) -> list[Path]:
        """Run directories, oldest first (ids start with the start time)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def runs(self) -> list[Run]:
        """Every run, oldest first; broken ones included with their error."""
        return [Run.load(p) for p in self.paths()]

    def iter_runs(self) -> Iterator[Run]:
        """Like runs(), lazily."""
        return (Run.load(p) for p in self.paths())

    def get(self, ref: str) -> Run:
        """A run by id, unique id prefix or suffix, path, or `latest`."""
        candidate = Path(ref).expanduser()
        if (candidate / RUN_FILE).exists() or (candidate.is_dir() and candidate.parent.resolve() == self.root.resolve()):
            return Run.load(candidate)
        paths = self.paths()
        if ref == "latest":
            # the newest readable run; ids have one-second resolution, so ties go by start time
            for path in reversed(paths):
                newest = [Run.load(p) for p in paths if p.name[:19] == path.name[:19]]
                readable = [run for run in newest if run.error is None]
                if readable:
                    return max(readable, key=lambda run: run.started or 0.0)
            raise NnlabError(f"no runs (none readable) under {self.root}; run an experiment first")
        exact = [p for p in paths if p.name == ref]
        matches = exact or [p for p in paths if p.name.startswith(ref) or p.name.endswith(ref)]
        if len(matches) == 1:
            return Run.load(matches[0])
        if not matches:
            raise NnlabError(f"no run matches '{ref}' under {self.root}; see `nnlab runs list`")
        raise NnlabError(f"'{ref}' matches {len(matches)} runs under {self.root}; give more of the id")

    def remove(self, run: Run) -> None:
        """Delete a run directory."""
        shutil.rmtree(run.path)
