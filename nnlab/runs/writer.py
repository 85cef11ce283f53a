"""RunWriter: writes one run's files while it runs, and its final status when it ends.

Every failed write (disk full, read-only folder, I/O error) raises NnlabError naming the file.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from nnlab.errors import EXIT_FAILED, NnlabError
from nnlab.runs.files import (ARTIFACTS_DIR, CONSOLE_FILE, METRICS_FILE, RUN_FILE, SUMMARY_FILE, ConsoleLog,
                              atomic_write_json, write_error)


class RunWriter:
    """Writes one run. Use as a context manager: it marks the run completed, failed or interrupted.

    Every failed write (disk full, read-only folder, I/O error) raises NnlabError naming the file.
    """

    def __init__(self, path: Path, info: dict):
        self.path = path
        self.info = info
        self._summary: dict = {}
        self._t0 = time.time()
        self._log: ConsoleLog | None = None
        atomic_write_json(path / RUN_FILE, info)
        try:
            self._metrics = open(path / METRICS_FILE, "a", encoding="utf-8")
        except OSError as exc:
            raise write_error(path / METRICS_FILE, exc) from None

    @property
    def id(self) -> str:
        return self.path.name

    def log_metric(self, name: str, value: float, *, step: int | None = None,
                   epoch: int | None = None, split: str | None = None) -> None:
        """Append one metric record; it is on disk when this returns."""
        row = {"step": step, "epoch": epoch, "split": split, "name": name,
               "value": float(value), "time": round(time.time() - self._t0, 4)}
        try:
            self._metrics.write(json.dumps(row) + "\n")
            self._metrics.flush()
        except OSError as exc:
            raise write_error(self.path / METRICS_FILE, exc) from None

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
        if not self.path.is_dir():  # deleted under us: recreating it would fake a run with no metrics
            raise NnlabError(f"cannot write {target}: the run folder {self.path} is gone", EXIT_FAILED)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(target.parent, exc) from None
        return target

    def console_log(self) -> ConsoleLog:
        """The run's console.log, opened for appending (once; closed by finish)."""
        if self._log is None:
            self._log = ConsoleLog(self.path / CONSOLE_FILE)
        return self._log

    def _close_files(self) -> None:
        if not self._metrics.closed:
            try:
                self._metrics.close()
            except OSError:
                pass  # every record was flushed when written
        if self._log is not None:
            self._log.close()

    def finish(self, status: str, error: str | None = None) -> None:
        """Close the run with its final status."""
        self._close_files()
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
            return False
        if issubclass(exc_type, KeyboardInterrupt):
            status, message = "interrupted", "interrupted by the user (Ctrl-C)"
        else:
            status, message = "failed", getattr(exc, "message", None) or f"{exc_type.__name__}: {exc}"
        try:
            self.finish(status, message)
        except NnlabError:
            pass  # the disk refuses even that: the error already on its way says why
        return False
