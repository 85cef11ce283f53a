"""The Log tab: a run's console.log, its last part first, growing as a running run prints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, Static

from nnlab.runs.files import read_tail
from nnlab.runs.store import CONSOLE_FILE, Run
from nnlab.view.format import plain

TAIL_BYTES = 256_000  # what is read when the tab opens: the end of a long log
POLL_BYTES = 1_000_000  # at most this much new text per poll
MAX_LINES = 5_000  # lines the widget keeps


@dataclass
class LogFollower:
    """Reads console.log from where it last stopped; the first read starts TAIL_BYTES before the end."""

    path: Path
    offset: int | None = None
    skipped: int = 0  # bytes before the first read, not shown

    @classmethod
    def for_run(cls, run: Run) -> "LogFollower":
        """A follower of `run`'s console.log."""
        return cls(run.path / CONSOLE_FILE)

    def poll(self) -> list[str]:
        """New complete lines (printable text only) since the last poll."""
        if self.offset is None:
            try:
                size = os.stat(self.path).st_size
            except OSError:
                return []
            self.offset = self.skipped = max(0, size - TAIL_BYTES)
            if self.offset:  # start at a line boundary
                chunk, self.offset = read_tail(self.path, self.offset, 4096)
                self.skipped = self.offset
        chunk, self.offset = read_tail(self.path, self.offset, POLL_BYTES)
        return [plain(line) for line in chunk.decode("utf-8", "replace").splitlines()]


class LogPane(Vertical):
    """console.log as text (never markup), following the end while the run writes."""

    def __init__(self, follower: LogFollower, **kwargs) -> None:
        super().__init__(**kwargs)
        self.follower = follower  # polled by the screen's workers; the pane only shows what they read
        self.lines = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="log-info", classes="info")
        yield Log(max_lines=MAX_LINES, id="log-view", auto_scroll=True)

    def add(self, lines: list[str], running: bool) -> None:
        """Append lines read by a worker, and say what is shown."""
        if lines:
            self.query_one("#log-view", Log).write_lines(lines)
            self.lines += len(lines)
        skipped = f" · the first {self.follower.skipped:,} bytes not shown" if self.follower.skipped else ""
        if not self.lines:
            state = "nothing printed yet" if running else "this run has no console.log"
            self.query_one("#log-info", Static).update(f"{CONSOLE_FILE}: {state}")
            return
        live = " · following (new lines appear at the end)" if running else ""
        self.query_one("#log-info", Static).update(f"{CONSOLE_FILE}: {self.lines:,} lines{skipped}{live}")
