"""The Recorder: how experiments report params, metrics, artifacts, tables and progress.

Experiments never print. They call a Recorder, which writes to the run (if any). This
silent one records the files and shows nothing (tests, library use); its console flavour,
nnlab.view.console.ConsoleRecorder, also draws Rich tables, terminal images and progress.
"""

from __future__ import annotations

import csv
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from nnlab.runs.files import atomic_output, atomic_write_json
from nnlab.runs.store import RunStore
from nnlab.runs.writer import RunWriter


class Progress:
    """A handle on one progress task; the silent flavour ignores updates."""

    def advance(self, n: int = 1, info: str = "") -> None:
        """Mark `n` more units done; `info` is a short live status (loss, throughput)."""

    def close(self) -> None:
        """Finish the task."""


class LiveTable:
    """A handle on a live table; the silent flavour ignores updates."""

    def update(self, rows: Sequence[Sequence[Any]], *, highlight: set[tuple[int, int]] | None = None) -> None:
        """Replace the table's rows; `highlight` holds (row, column) cells to emphasise."""


class Recorder:
    """Silent recorder: writes everything to the run, shows nothing."""

    def __init__(self, run: RunWriter | None = None, store: RunStore | None = None):
        self.run = run
        self.store = store
        self._scratch: Path | None = None

    # ---- recording ----------------------------------------------------------------------

    def metric(self, name: str, value: float, *, step: int | None = None,
               epoch: int | None = None, split: str | None = None) -> None:
        """Record one value of metric `name`."""
        if self.run is not None:
            self.run.log_metric(name, value, step=step, epoch=epoch, split=split)

    def summary(self, values: dict[str, Any]) -> None:
        """Merge final metrics into the run's summary.json."""
        if self.run is not None:
            self.run.set_summary(values)

    def update_run(self, **fields: Any) -> None:
        """Add facts to run.json learnt during the run (e.g. the dataset actually used)."""
        if self.run is not None:
            self.run.update(**fields)

    def artifact(self, name: str) -> Path:
        """The path to write artifact `name` to (inside the run, or a scratch dir without one)."""
        if self.run is not None:
            return self.run.artifact_path(name)
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="nnlab-"))
        target = self._scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def save_csv(self, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
        """Write a CSV artifact."""
        path = self.artifact(name)
        with atomic_output(path, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        """Write a JSON artifact atomically."""
        path = self.artifact(name)
        atomic_write_json(path, obj)
        return path

    @contextmanager
    def child(self, command: str, config: dict, *, seed: int | None = None,
              device: str | None = None) -> Iterator["Recorder"]:
        """A child run (one trial of a sweep, one size of a study) recorded under this one."""
        if self.store is None or self.run is None:
            yield type(self)._like(self, None)
            return
        writer = self.store.create(command, config, seed=seed, device=device, parent=self.run.id)
        with writer:
            yield type(self)._like(self, writer)

    @classmethod
    def _like(cls, other: "Recorder", run: RunWriter | None) -> "Recorder":
        return cls(run, other.store)

    # ---- display (no-ops here; the console flavour draws) --------------------------------

    def info(self, message: str) -> None:
        """A line of information for the user."""

    def warn(self, message: str) -> None:
        """Something the user must notice."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
              footer: Sequence[Any] | None = None, caption: str = "",
              highlight: set[tuple[int, int]] | None = None) -> None:
        """A table; `highlight` holds (row, column) cells to emphasise."""

    def image(self, image: np.ndarray, title: str = "", path: Path | None = None) -> None:
        """A grey (H, W) or colour (H, W, 3) image in [0, 1], drawn in the terminal.

        `path` names the PNG artifact it shows (default: the last PNG artifact asked for),
        for a console that is not a terminal, which prints that pointer instead.
        """

    def plot(self, series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "",
             xlabel: str = "", ylabel: str = "", logy: bool = False) -> None:
        """A line plot drawn in the terminal."""

    @contextmanager
    def progress(self, total: int, description: str) -> Iterator[Progress]:
        """A progress task of `total` units."""
        yield Progress()

    @contextmanager
    def live_table(self, title: str, columns: Sequence[str], *, caption: str = "") -> Iterator["LiveTable"]:
        """A table redrawn in place as its rows change (a sweep's results, say)."""
        yield LiveTable()
