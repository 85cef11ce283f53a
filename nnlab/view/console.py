"""The console recorder: records like `Recorder` and draws on a Rich console.

Tables, terminal images, plots and progress bars for people; when the console is not a
terminal (a log file, a pipe), progress becomes periodic plain lines and images a one-line
pointer to their PNG.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnlab.errors import NnlabError
from nnlab.runs.recorder import LiveTable, Progress, Recorder
from nnlab.runs.store import RunStore
from nnlab.runs.writer import RunWriter
from nnlab.view.format import plain
from nnlab.view.graphics import MODES


def image_mode_for(console: Console, mode: str) -> str:
    """What `--images mode` means on this console: `halfblock`, `kitty`, `sixel` or `pointer`
    (one line naming the PNG).

    `auto` draws half-blocks on a terminal and a pointer elsewhere (logs, pipes); `none`
    always gives the pointer. Raises NnlabError for an unknown mode.
    """
    if mode not in MODES:
        raise NnlabError(f"unknown --images '{mode}'; use one of {', '.join(MODES)}")
    if mode == "none" or (mode == "auto" and not console.is_terminal):
        return "pointer"
    return "halfblock" if mode == "auto" else mode


class ConsoleRecorder(Recorder):
    """Records like Recorder and draws on a Rich console (stderr when stdout carries JSON).

    `images` is the shared `--images` value: auto, kitty, sixel, halfblock or none.
    Everything shown is also written, as plain text, to the run's console.log (and to its
    parents' logs, for a child run): images there are always the line naming the PNG, and
    progress the periodic lines a log gets.
    """

    def __init__(self, run: RunWriter | None = None, store: RunStore | None = None, console: Console | None = None,
                 images: str = "auto", *, logs: Sequence[Console] = ()):
        super().__init__(run, store)
        self.console = console or Console(stderr=True)
        image_mode_for(self.console, images)  # an unknown mode fails here, not at the first image
        self.images = images
        self._last_png: Path | None = None
        self.logs = list(logs)  # plain consoles writing to console.log files
        if run is not None:
            self.logs.insert(0, Console(file=run.console_log(), width=self.console.width, color_system=None,
                                        force_terminal=False, force_interactive=False, highlight=False))

    @classmethod
    def _like(cls, other: "Recorder", run: RunWriter | None) -> "Recorder":
        return cls(run, other.store, getattr(other, "console", None), getattr(other, "images", "auto"),
                   logs=getattr(other, "logs", ()))

    def _print(self, renderable, **options) -> None:
        """Show `renderable` on the console and write it to every log."""
        for console in (self.console, *self.logs):
            console.print(renderable, **options)

    def artifact(self, name: str) -> Path:
        path = super().artifact(name)
        if path.suffix.lower() == ".png":
            self._last_png = path  # what an image drawn next most likely shows (its pointer names it)
        return path

    def info(self, message: str) -> None:
        self._print(message, highlight=False)

    def warn(self, message: str) -> None:
        from rich.panel import Panel

        self._print(Panel(message, title="warning", border_style="yellow", expand=False))

    def table(self, title, columns, rows, *, footer=None, caption="", highlight=None) -> None:
        self._print(rich_table(title, columns, rows, footer=footer, caption=caption, highlight=highlight))

    def image(self, image, title="", path: Path | None = None) -> None:
        where = path or self._last_png
        shown = f"{title}: see {where}" if where else f"{title} (not drawn here)"
        pointer = escape(f"image {shown}".rstrip())
        for log in self.logs:
            log.print(pointer, highlight=False, soft_wrap=True)
        mode = image_mode_for(self.console, self.images)
        if mode == "pointer":
            self.console.print(pointer, highlight=False, soft_wrap=True)
            return
        from nnlab.view.graphics import detect, render_image

        graphics = detect(mode)  # kitty or Sixel fall back to half-blocks where they cannot work
        if title:
            self.console.print(f"[bold]{escape(title)}[/]")
        self.console.print(render_image(image, graphics, max_width=max(20, self.console.width - 2)))

    def plot(self, series, *, title="", xlabel="", ylabel="", logy=False) -> None:
        from nnlab.view.terminal import line_plot

        width = min(self.console.width, 100)
        self._print(line_plot(series, title=title, xlabel=xlabel, ylabel=ylabel, logy=logy, width=width, height=18))

    @contextmanager
    def progress(self, total: int, description: str) -> Iterator[Progress]:
        if self.console.is_terminal:
            shown: Progress = _LiveProgress(self.console, total, description)
        else:
            shown = _PlainProgress(self.console, total, description)
        handle = _Both([shown] + [_PlainProgress(log, total, description) for log in self.logs])
        try:
            yield handle
        finally:
            handle.close()

    @contextmanager
    def live_table(self, title: str, columns: Sequence[str], *, caption: str = "") -> Iterator[LiveTable]:
        handle = _Both([_ConsoleLiveTable(console, title, columns, caption) for console in (self.console, *self.logs)])
        try:
            yield handle
        finally:
            handle.close()


class _Both(Progress, LiveTable):
    """One progress task or live table shown in several places (the console and the logs)."""

    def __init__(self, handles: list):
        self._handles = handles

    def advance(self, n: int = 1, info: str = "") -> None:
        for handle in self._handles:
            handle.advance(n, info)

    def update(self, rows, *, highlight=None) -> None:
        for handle in self._handles:
            handle.update(rows, highlight=highlight)

    def close(self) -> None:
        for handle in self._handles:
            handle.close()


def rich_table(title, columns, rows, *, footer=None, caption="", highlight=None) -> Table:
    """A Rich table of `rows` under `columns`; numbers right-aligned, `highlight` cells in reverse video."""
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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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
        return rich_table(*self._args, self._rows, caption=self._caption, highlight=self._highlight)

    def update(self, rows, *, highlight=None) -> None:
        self._rows, self._highlight = rows, highlight
        if self._live is not None:
            self._live.update(self._render())

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
        elif self._rows:
            self._console.print(self._render())


class _LiveProgress(Progress):
    def __init__(self, console, total: int, description: str):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                 console=console, transient=False)
        self._task = self._bar.add_task(escape(description), total=total, info="")
        self._bar.start()

    def advance(self, n: int = 1, info: str = "") -> None:
        self._bar.update(self._task, advance=n, info=escape(info))

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
        self._console.print(plain(f"{self._description} {self._done}/{self._total} {self._info}".rstrip()),
                            highlight=False, soft_wrap=True, markup=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._line()
