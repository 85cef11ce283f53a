"""The Recorder: how experiments report params, metrics, artifacts, tables and progress.

Experiments never print. They call a Recorder, which writes to the run (if any) and, in
its console flavour, draws Rich tables, terminal images and progress. The silent base
class records the same files and shows nothing: for tests and library use.
"""

from __future__ import annotations

import csv
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from nnlab.runs.store import RunStore, RunWriter, atomic_write_json


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
        with open(path, "w", newline="", encoding="utf-8") as fh:
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

    def image(self, image: np.ndarray, title: str = "") -> None:
        """A grey (H, W) or colour (H, W, 3) image in [0, 1], drawn in the terminal."""

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


class ConsoleRecorder(Recorder):
    """Records like Recorder and draws on a Rich console (stderr when stdout carries JSON)."""

    def __init__(self, run: RunWriter | None = None, store: RunStore | None = None, console=None):
        super().__init__(run, store)
        from rich.console import Console

        self.console = console or Console(stderr=True)

    @classmethod
    def _like(cls, other: "Recorder", run: RunWriter | None) -> "Recorder":
        return cls(run, other.store, getattr(other, "console", None))

    def info(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def warn(self, message: str) -> None:
        from rich.panel import Panel

        self.console.print(Panel(message, title="warning", border_style="yellow", expand=False))

    def table(self, title, columns, rows, *, footer=None, caption="", highlight=None) -> None:
        self.console.print(_rich_table(title, columns, rows, footer=footer, caption=caption, highlight=highlight))

    def image(self, image, title="") -> None:
        from nnlab.core.terminal import halfblock

        if title:
            self.console.print(f"[bold]{title}[/]")
        self.console.print(halfblock(image, max_width=max(20, self.console.width - 2)))

    def plot(self, series, *, title="", xlabel="", ylabel="", logy=False) -> None:
        from nnlab.core.terminal import line_plot

        width = min(self.console.width, 100)
        self.console.print(line_plot(series, title=title, xlabel=xlabel, ylabel=ylabel,
                                     logy=logy, width=width, height=18))

    @contextmanager
    def progress(self, total: int, description: str) -> Iterator[Progress]:
        if self.console.is_terminal:
            handle: Progress = _LiveProgress(self.console, total, description)
        else:
            handle = _PlainProgress(self.console, total, description)
        try:
            yield handle
        finally:
            handle.close()

    @contextmanager
    def live_table(self, title: str, columns: Sequence[str], *, caption: str = "") -> Iterator[LiveTable]:
        handle = _ConsoleLiveTable(self.console, title, columns, caption)
        try:
            yield handle
        finally:
            handle.close()


def _rich_table(title, columns, rows, *, footer=None, caption="", highlight=None):
    from rich.table import Table

    table = Table(title=title, caption=caption or None, show_footer=footer is not None,
                  title_justify="left", caption_justify="left")
    for i, col in enumerate(columns):
        table.add_column(str(col), footer=str(footer[i]) if footer is not None else "",
                         justify="left" if i == 0 else "right")
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            text = _fmt(value)
            if highlight and (r, c) in highlight:
                text = f"[bold reverse]{text}[/]"
            cells.append(text)
        table.add_row(*cells)
    return table


class _ConsoleLiveTable(LiveTable):
    """Redrawn in place on a terminal; elsewhere (logs, pipes) printed once, at the end."""

    def __init__(self, console, title: str, columns: Sequence[str], caption: str):
        self._console = console
        self._args = (title, columns)
        self._caption = caption
        self._rows: Sequence[Sequence[Any]] = []
        self._highlight: set[tuple[int, int]] | None = None
        self._live = None
        if console.is_terminal:
            from rich.live import Live

            self._live = Live(self._render(), console=console, refresh_per_second=4)
            self._live.start()

    def _render(self):
        return _rich_table(*self._args, self._rows, caption=self._caption, highlight=self._highlight)

    def update(self, rows, *, highlight=None) -> None:
        self._rows, self._highlight = rows, highlight
        if self._live is not None:
            self._live.update(self._render())

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
        elif self._rows:
            self._console.print(self._render())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class _LiveProgress(Progress):
    def __init__(self, console, total: int, description: str):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                 console=console, transient=False)
        self._task = self._bar.add_task(description, total=total, info="")
        self._bar.start()

    def advance(self, n: int = 1, info: str = "") -> None:
        self._bar.update(self._task, advance=n, info=info)

    def close(self) -> None:
        self._bar.stop()


class _PlainProgress(Progress):
    """Periodic plain lines for logs and pipes, where a live bar would be noise."""

    EVERY_S = 5.0

    def __init__(self, console, total: int, description: str):
        self._console = console
        self._total = total
        self._description = description
        self._done = 0
        self._info = ""
        self._last = time.monotonic()
        self._closed = False

    def advance(self, n: int = 1, info: str = "") -> None:
        self._done += n
        self._info = info or self._info
        now = time.monotonic()
        if now - self._last >= self.EVERY_S:
            self._last = now
            self._line()

    def _line(self) -> None:
        self._console.print(f"{self._description} {self._done}/{self._total} {self._info}".rstrip(),
                            highlight=False, soft_wrap=True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._line()
