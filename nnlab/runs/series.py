"""Metric records for people: curves per split, long-format export, and following a live run.

Plain data in, plain data out; shared by `nnlab runs` and `nnlab browse`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from nnlab.runs.store import METRICS_FILE, Run


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
        if math.isfinite(y):
            grouped.setdefault(row.get("split") or "all", []).append(row)
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


@dataclass
class MetricsFollower:
    """Reads a run's metrics.jsonl incrementally: each poll returns only the new complete lines.

    Used by `runs tail` and by the browser's live curves, so a run that is still writing
    costs one small read per poll instead of re-reading the whole file.
    """

    path: Path
    offset: int = 0

    @classmethod
    def for_run(cls, run: Run) -> "MetricsFollower":
        """A follower at the start of `run`'s metrics file."""
        return cls(run.path / METRICS_FILE)

    def poll(self) -> list[dict]:
        """New records since the last poll; a last line without its newline waits for the next poll."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        rows = []
        for line in chunk[:end].splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a garbled line: skip it, as the store's reader does
            if isinstance(row, dict):
                rows.append(row)
        return rows
