"""The runs table: one row per run, children under their parent, sortable, filterable, selectable.

A line-API widget rather than a DataTable: DataTable measures every cell of every row
through Rich before its first paint, which for 2,000 runs took longer than the whole
1-second budget on a busy 2-core machine. Here column widths come from plain string
lengths and only the visible lines are ever rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from nnlab.runs import index, query
from nnlab.runs.store import Run
from nnlab.view import format as fmt
from nnlab.view.overview import STATUS_STYLE


@dataclass(frozen=True)
class Column:
    """A table column: its key, header, and how to sort runs by it."""

    key: str
    label: str
    sort: Callable[["RunsTable", Run], Any]


def _metric_value(table: "RunsTable", run: Run) -> Any:
    found = query.key_metric(table.summaries.get(run.id) or {})
    return found[1] if found else None


def command_text(run: Run) -> str:
    """The command shown: an unreadable run has none, but its folder name does: <time>_<command>_<token>."""
    if not run.error:
        return run.command
    parts = run.id.split("_")
    return parts[1] if len(parts) == 3 else "?"


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
KEYS = [c.key for c in COLUMNS]
GAP = 2  # spaces between columns

Cell = tuple[str, str]  # text, Rich style ("" for the row's own)


def bindings(shown: list[tuple[str, str, str]], hidden: list[tuple[str, str, str]]) -> list[Binding]:
    """A widget's keys from (keys, action, description) rows: `shown` in the footer, `hidden` only in `?`."""
    return [Binding(*row) for row in shown] + [Binding(*row, show=False) for row in hidden]


class RunsTable(ScrollView, can_focus=True):
    """Runs as rows. Holds the runs it was given; it never reads files itself."""

    COMPONENT_CLASSES = {"runs-table--header", "runs-table--cursor", "runs-table--odd"}
    DEFAULT_CSS = """
    RunsTable {
        height: 1fr;
        background: $surface;
        & > .runs-table--header { text-style: bold; background: $panel; }
        & > .runs-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .runs-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .runs-table--odd { background: $surface-lighten-1 50%; }
    }
    """

    BINDINGS = bindings(
        shown=[("enter", "open", "Open"), ("space", "toggle_select", "Select"), ("s", "next_sort", "Sort")],
        hidden=[("S", "reverse_sort", "Reverse"), ("down,j", "cursor(1)", "Down"), ("up,k", "cursor(-1)", "Up"),
                ("pagedown", "page(1)", "Page down"), ("pageup", "page(-1)", "Page up"),
                ("home,g", "jump(0)", "Top"), ("end,G", "jump(-1)", "Bottom")],
    )

    class Opened(Message):
        """The user asked to open a run (enter)."""

        def __init__(self, run: Run) -> None:
            super().__init__()
            self.run = run

    class Changed(Message):
        """The visible rows, the selection or the order changed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs: dict[str, Run] = {}
        self.summaries: dict[str, dict] = {}
        self.selected: set[str] = set()
        self.filter_text = ""
        self.sort_key = "started"
        self.reverse = True  # newest first
        self.shown: list[tuple[Run, int]] = []
        self.cursor_row = 0
        self._cells: dict[int, list[Cell]] = {}  # row -> its cells, made when the row is first drawn
        self._index: dict[str, int] = {}
        self._widths = [cell_len(c.label) + 2 for c in COLUMNS]
        self._styles: dict[str, Style] = {}

    # ---- data in ------------------------------------------------------------------------

    def set_runs(self, runs: list[Run]) -> None:
        """Replace all runs and redraw."""
        self.runs = {run.id: run for run in runs}
        self.selected &= set(self.runs)
        self.rebuild()

    def update_runs(self, changed: list[Run], removed: list[str]) -> None:
        """Apply a poll's result: changed rows are redrawn in place; new or removed runs rebuild.

        So does a changed run that now passes the filter or no longer does: a run first seen
        half-written (no run.json yet, so no command) must appear once its run.json is there.
        """
        new = [run for run in changed if run.id not in self.runs]
        for run in changed:
            self.runs[run.id] = run
        for run_id in removed:
            self.runs.pop(run_id, None)
            self.selected.discard(run_id)
        pred = query.parse_filter(self.filter_text)
        if new or removed or any(pred(run) != (run.id in self._index) for run in changed):
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

    @property
    def row_count(self) -> int:
        """How many rows are shown (after the filter)."""
        return len(self.shown)

    def rebuild(self) -> None:
        """Filter, order and redraw every row, keeping the cursor on the same run."""
        current = self.current_run()
        if self.filter_text.strip():
            pred = query.parse_filter(self.filter_text)
            matching = [run for run in self.runs.values() if pred(run)]
        else:
            matching = list(self.runs.values())
        column = next(c for c in COLUMNS if c.key == self.sort_key)
        with index.many_objects():
            self.shown = query.tree_order(matching, key=lambda r: column.sort(self, r), reverse=self.reverse)
            self._index = {run.id: i for i, (run, _) in enumerate(self.shown)}
        self._cells = {}
        self._widths = self._base_widths()
        for row in range(min(len(self.shown), max(self.size.height, 50))):  # the first screenful now
            self._widen(self.cells(row))
        self.cursor_row = self._index.get(current.id, 0) if current is not None else 0
        self._resize()
        self._scroll_to_cursor()
        self.post_message(self.Changed())

    def refresh_row(self, run_id: str) -> None:
        """Redraw one row's cells (status, duration, key metric) if it is shown."""
        i = self._index.get(run_id)
        if i is None:
            return
        self._cells[i] = self._row_cells(self.runs[run_id], self.shown[i][1])
        if self._widen(self._cells[i]):
            self._resize()
        self.refresh()

    def _base_widths(self) -> list[int]:
        """Column widths known without making every row's cells (100,000 rows would take seconds):
        the longest command and the deepest child from plain data, fixed widths for the rest.
        The key metric column widens as rows are drawn (it is the last one: nothing moves)."""
        widths = [cell_len(self.header_label(c.key)) for c in COLUMNS]
        depth = max((d for _, d in self.shown), default=0)
        commands = {command_text(run) for run, _ in self.shown}
        fixed = {"sel": 1, "id": 6 + 2 * depth, "command": max(map(cell_len, commands), default=1),
                 "status": max(map(len, STATUS_STYLE)), "started": 11, "duration": 6}
        return [max(w, fixed.get(c.key, 0)) for w, c in zip(widths, COLUMNS)]

    def cells(self, row: int) -> list[Cell]:
        """The cells of shown row `row`, made on first use."""
        found = self._cells.get(row)
        if found is None:
            run, depth = self.shown[row]
            found = self._cells[row] = self._row_cells(run, depth)
            if self._widen(found):
                self.call_after_refresh(self._resize)
        return found

    def _widen(self, cells: list[Cell]) -> bool:
        grown = False
        for j, (text, _) in enumerate(cells):
            if len(text) > self._widths[j]:  # len, not cell_len: ids and numbers are ASCII
                self._widths[j] = cell_len(text)
                grown = True
        return grown

    def _resize(self) -> None:
        width = sum(self._widths) + GAP * len(self._widths)
        self.virtual_size = Size(width, len(self.shown) + 1)  # + the header line
        self.refresh()

    def _row_cells(self, run: Run, depth: int) -> list[Cell]:
        started = fmt.format_started(run)
        status = query.status_of(run)
        metric = (run.error, "red") if run.error else (fmt.format_key_metric(self.summaries.get(run.id) or {}), "")
        command = command_text(run)
        return [
            ("●" if run.id in self.selected else " ", "bold"),
            (("  " * (depth - 1) + "└ " if depth else "") + run.id[-6:], ""),
            (command, ""),
            (status, STATUS_STYLE.get(status, "")),
            (started[5:] if started else "", ""),  # month-day hour:minute: the year only costs width
            (fmt.format_duration(query.duration_of(run)), ""),
            metric,
        ]

    def header_label(self, key: str) -> str:
        """A column's header, with an arrow on the sort column."""
        column = COLUMNS[KEYS.index(key)]
        return column.label + ((" ↓" if self.reverse else " ↑") if key == self.sort_key else "")

    def get_row(self, run_id: str) -> list[str]:
        """The texts of a shown run's cells, in column order."""
        return [text for text, _ in self.cells(self._index[run_id])]

    # ---- rendering ----------------------------------------------------------------------

    def _style(self, spec: str) -> Style:
        if spec not in self._styles:
            self._styles[spec] = Style.parse(spec) if spec else Style()
        return self._styles[spec]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:  # the header stays put; it scrolls only sideways
            base = self.get_component_rich_style("runs-table--header")
            cells = [(self.header_label(c.key), "") for c in COLUMNS]
        else:
            row = scroll_y + y - 1
            if row >= len(self.shown):
                return Strip.blank(width, self.rich_style)
            base = self.rich_style
            if row % 2:
                base += self.get_component_rich_style("runs-table--odd")
            if row == self.cursor_row:
                base += self.get_component_rich_style("runs-table--cursor")
            cells = self.cells(row)
        segments = []
        for (text, style), w in zip(cells, self._widths):
            segments.append(Segment(" " * (GAP // 2), base))
            segments.append(Segment(set_cell_size(text, w), base + self._style(style) if style else base))
            segments.append(Segment(" " * (GAP - GAP // 2), base))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, base)

    # ---- cursor and actions -------------------------------------------------------------

    def current_run(self) -> Run | None:
        """The run under the cursor, or None when the table is empty."""
        if not self.shown:
            return None
        return self.shown[min(self.cursor_row, len(self.shown) - 1)][0]

    def children_of(self, run_id: str) -> list[Run]:
        """The runs whose parent is `run_id` (a sweep's trials), in id order."""
        return sorted((r for r in self.runs.values() if r.parent == run_id), key=lambda r: r.id)

    def selected_runs(self) -> list[Run]:
        """The selected runs, in table order."""
        return [run for run, _ in self.shown if run.id in self.selected]

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped) and scroll it into view."""
        if not self.shown:
            return
        self.cursor_row = max(0, min(row, len(self.shown) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta * max(1, self.size.height - 2))

    def action_jump(self, row: int) -> None:
        self.move_cursor(row if row >= 0 else len(self.shown) - 1)

    def action_open(self) -> None:
        run = self.current_run()
        if run is not None:
            self.post_message(self.Opened(run))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:  # header: sort by the clicked column
            x = event.x + self.scroll_offset.x
            for column, w in zip(COLUMNS, self._widths):
                x -= w + GAP
                if x < 0:
                    if column.key != "sel":
                        self.sort_by(column.key, not self.reverse if column.key == self.sort_key else None)
                    return
            return
        row = self.scroll_offset.y + event.y - 1
        if row < len(self.shown):
            if row == self.cursor_row and event.chain > 1:
                self.action_open()
            self.move_cursor(row)

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
        self.action_cursor(1)
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
