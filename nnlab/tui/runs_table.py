"""The runs table: one row per run, children under their parent, sortable, filterable, selectable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from nnlab.runs import query
from nnlab.runs.store import Run
from nnlab.tui.widgets import status_text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: Callable[["RunsTable", Run], Any]


def _metric_value(table: "RunsTable", run: Run) -> Any:
    found = query.key_metric(table.summaries.get(run.id) or {})
    return found[1] if found else None


COLUMNS = (
    Column("sel", " ", lambda t, r: r.id in t.selected or None),
    Column("id", "run", lambda t, r: r.id[-6:]),
    Column("command", "command", lambda t, r: r.command),
    Column("status", "status", lambda t, r: query.status_of(r)),
    Column("started", "started", lambda t, r: r.started if isinstance(r.started, (int, float)) else None),
    Column("duration", "time", lambda t, r: query.duration_of(r)),
    Column("metric", "key metric", _metric_value),
)
SORTABLE = [c for c in COLUMNS if c.key != "sel"]


class RunsTable(DataTable):
    """Runs as rows keyed by run id. Holds the runs it was given; it never reads files itself."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
        Binding("space", "toggle_select", "Select"),
        Binding("s", "next_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
    ]

    class Opened(Message):
        """The user asked to open a run (enter)."""

        def __init__(self, run: Run) -> None:
            super().__init__()
            self.run = run

    class Changed(Message):
        """The visible rows, the selection or the order changed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.runs: dict[str, Run] = {}
        self.summaries: dict[str, dict] = {}
        self.selected: set[str] = set()
        self.filter_text = ""
        self.sort_key = "started"
        self.reverse = True  # newest first
        self.shown: list[tuple[Run, int]] = []

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    # ---- data in ------------------------------------------------------------------------

    def set_runs(self, runs: list[Run]) -> None:
        """Replace all runs and redraw."""
        self.runs = {run.id: run for run in runs}
        self.selected &= set(self.runs)
        self.rebuild()

    def update_runs(self, changed: list[Run], removed: list[str]) -> None:
        """Apply a poll's result: changed rows are updated in place; new or removed runs rebuild."""
        new = [run for run in changed if run.id not in self.runs]
        for run in changed:
            self.runs[run.id] = run
        for run_id in removed:
            self.runs.pop(run_id, None)
            self.selected.discard(run_id)
        if new or removed:
            self.rebuild()
            return
        for run in changed:
            self.refresh_row(run.id)

    def set_summaries(self, summaries: dict[str, dict]) -> None:
        """Key metrics arrive after the table is shown (read by a worker)."""
        self.summaries.update(summaries)
        if self.sort_key == "metric":
            self.rebuild()
            return
        for run_id in summaries:
            self.refresh_row(run_id)

    # ---- view ---------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Filter, order and redraw every row, keeping the cursor on the same run."""
        current = self.current_run()
        pred = query.parse_filter(self.filter_text)
        matching = [run for run in self.runs.values() if pred(run)]
        column = next(c for c in COLUMNS if c.key == self.sort_key)
        self.shown = query.tree_order(matching, key=lambda r: column.sort(self, r), reverse=self.reverse)
        self.clear()
        for run, depth in self.shown:
            self.add_row(*self._cells(run, depth), key=run.id)
        for column_def in COLUMNS:  # mark the sort column in its header
            arrow = (" ↓" if self.reverse else " ↑") if column_def.key == self.sort_key else ""
            self.columns[column_def.key].label = Text(column_def.label + arrow)
        if current is not None and current.id in self.rows:
            self.move_cursor(row=self.get_row_index(current.id), animate=False)
        self.post_message(self.Changed())

    def refresh_row(self, run_id: str) -> None:
        """Redraw one row's cells (status, duration, key metric) if it is visible."""
        if run_id not in self.rows:
            return
        run = self.runs[run_id]
        depth = next((d for r, d in self.shown if r.id == run_id), 0)
        for column, cell in zip(COLUMNS, self._cells(run, depth)):
            self.update_cell(run_id, column.key, cell, update_width=True)

    def _cells(self, run: Run, depth: int) -> list:
        short = run.id[-6:] if not run.error else run.id[-18:]
        metric = (Text(run.error, style="red") if run.error
                  else query.format_key_metric(self.summaries.get(run.id) or {}))
        started = query.format_started(run)
        return [
            Text("●", style="bold") if run.id in self.selected else " ",
            ("  " * (depth - 1) + "└ " if depth else "") + short,
            run.command if not run.error else "?",
            status_text(query.status_of(run)),
            started[5:] if started else "",  # month-day hour:minute: the year only costs width
            query.format_duration(query.duration_of(run)),
            metric,
        ]

    def current_run(self) -> Run | None:
        """The run under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # cursor outside the rows while the table is being rebuilt
            return None
        return self.runs.get(key.value)

    def selected_runs(self) -> list[Run]:
        """The selected runs, in table order."""
        return [run for run, _ in self.shown if run.id in self.selected]

    # ---- actions ------------------------------------------------------------------------

    def set_filter(self, text: str) -> None:
        """Show only runs matching `text` (see query.parse_filter)."""
        self.filter_text = text
        self.rebuild()

    def action_toggle_select(self) -> None:
        """Select or unselect the run under the cursor, then move down (to select a run of rows quickly)."""
        run = self.current_run()
        if run is None:
            return
        self.selected.symmetric_difference_update({run.id})
        self.refresh_row(run.id)
        self.action_cursor_down()
        self.post_message(self.Changed())

    def clear_selection(self) -> None:
        """Unselect every run."""
        old, self.selected = self.selected, set()
        for run_id in old:
            self.refresh_row(run_id)
        self.post_message(self.Changed())

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Order rows by column `key` (children stay under their parent)."""
        self.sort_key = key
        if reverse is not None:
            self.reverse = reverse
        self.rebuild()

    def action_next_sort(self) -> None:
        keys = [c.key for c in SORTABLE]
        self.sort_by(keys[(keys.index(self.sort_key) + 1) % len(keys)] if self.sort_key in keys else keys[0])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key, not self.reverse)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        run = self.runs.get(event.row_key.value)
        if run is not None:
            self.post_message(self.Opened(run))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value
        if key in {c.key for c in SORTABLE}:
            self.sort_by(key, not self.reverse if key == self.sort_key else self.reverse)
