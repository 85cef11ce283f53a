"""Metric records for people: curves per split, long-format export, and following a live run.

Plain data in, plain data out; shared by `nnlab runs` and `nnlab browse`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from nnlab.runs.files import CONSOLE_FILE, METRICS_CAP, METRICS_FILE, parse_metric_lines, read_tail
from nnlab.runs.store import Run


def metric_names(rows: Iterable[dict]) -> list[str]:
    """Metric names in first-seen order, `loss` first and the running `step_loss` last."""
    names: list[str] = []
    for row in rows:
        name = row.get("name")
        if isinstance(name, str) and name not in names:
            names.append(name)
    return sorted(names, key=lambda n: (n != "loss", n == "step_loss", names.index(n)))


def curves(rows: Iterable[dict], name: str, by: str = "epoch") -> dict[str, tuple[list[float], list[float]]]:
    """The series of metric `name` per split, as {split: (xs, ys)}.

    by="epoch": one point per epoch (the last record of it); by="step": every record
    against its step. The trainer records epoch means as `loss` and the running loss within
    an epoch as `step_loss`, so neither view mixes the two.
    """
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        x, y = row.get(by), row.get("value")
        if row.get("name") != name or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            continue
        if math.isfinite(x) and math.isfinite(y):
            split = row.get("split") or "all"
            grouped.setdefault(split if isinstance(split, str) else str(split), []).append(row)
    out = {}
    for split, records in grouped.items():
        points = {row[by]: row["value"] for row in records}  # later records win
        xs = sorted(points)
        out[split] = (xs, [points[x] for x in xs])
    return out


def export_rows(run: Run, rows: Iterable[dict]) -> Iterable[dict[str, Any]]:
    """Metric records in long format, one per value, tagged with the run."""
    for row in rows:
        yield {"run": run.id, "command": run.command, "step": row.get("step"), "epoch": row.get("epoch"),
               "split": row.get("split"), "name": row.get("name"), "value": row.get("value"),
               "time": row.get("time")}


EXPORT_FIELDS = ("run", "command", "step", "epoch", "split", "name", "value", "time")


POLL_LIMIT = METRICS_CAP  # bytes one poll reads at most (a whole run's metrics); more waits for the next poll


@dataclass
class FileFollower:
    """Reads an append-only file incrementally: each poll returns only the new complete lines.

    Used by `runs tail` and by the browser's live views, so a run that is still writing
    costs one small, bounded read per poll instead of re-reading the whole file.
    """

    path: Path
    offset: int = 0

    def poll_bytes(self) -> bytes:
        """New complete lines since the last poll; a last line without its newline waits for the next poll."""
        chunk, self.offset = read_tail(self.path, self.offset, POLL_LIMIT)
        return chunk

    def skip_to_last(self, lines: int, window: int = 1_000_000) -> None:
        """Start after all but the last `lines` complete lines (looking back at most `window` bytes)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        start = max(0, size - window)
        chunk, end = read_tail(self.path, start, window)
        kept = chunk.splitlines(keepends=True)[1 if start else 0:]  # a window's first line is cut
        self.offset = end - sum(len(line) for line in (kept[-lines:] if lines else []))


class MetricsFollower(FileFollower):
    """Follows a run's metrics.jsonl: each poll returns the new records."""

    @classmethod
    def for_run(cls, run: Run) -> "MetricsFollower":
        """A follower at the start of `run`'s metrics file."""
        return cls(run.path / METRICS_FILE)

    def poll(self) -> list[dict]:
        """New records since the last poll (garbled lines skipped, as the store's reader does)."""
        return parse_metric_lines(self.poll_bytes())


class LogFollower(FileFollower):
    """Follows a run's console.log: each poll returns the new lines, as text."""

    @classmethod
    def for_run(cls, run: Run) -> "LogFollower":
        """A follower at the start of `run`'s console.log."""
        return cls(run.path / CONSOLE_FILE)

    def poll(self) -> list[str]:
        """New lines since the last poll, without their newlines (undecodable bytes as U+FFFD)."""
        return self.poll_bytes().decode("utf-8", "replace").splitlines()
