"""Tables of numbers in the browser: sortable, a cell or a row copied to the clipboard, exported to CSV.

`NumberTable` holds its rows as plain values (full precision), shows them rounded, and
sorts numbers as numbers. The CSV reading and writing here are plain functions: a
hostile CSV is capped and its cells are shown as text, never as Rich markup.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label

from nnlab.errors import NnlabError
from nnlab.runs.files import Unreadable, atomic_output, read_regular
from nnlab.runs.store import RunStore
from nnlab.view.format import plain

CSV_CAP = 2_000_000  # bytes of an artifact CSV shown as a table
MAX_ROWS = 5_000
MAX_COLS = 200
MAX_CELL = 200  # characters of one cell shown


def cell_text(value: Any) -> str:
    """A value as the table shows it: floats to 6 significant digits, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return plain(value, MAX_CELL)


def sort_key(value: Any) -> tuple:
    """Numbers before text, numbers by value; NaN and missing last."""
    number = as_number(value)
    if number is not None and not math.isnan(number):
        return (0, number, "")
    return (1 if value not in (None, "") and number is None else 2, 0.0, str(value))


def as_number(value: Any) -> float | None:
    """The float a cell holds (a number, or text that parses as one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_csv_table(path: Path) -> tuple[list[str], list[list[str]], str]:
    """A CSV artifact as (header, rows, note): at most MAX_ROWS rows and MAX_COLS columns.

    Raises NnlabError when the file is not a regular, capped, decodable CSV.
    """
    try:
        data = read_regular(path, CSV_CAP)
    except (OSError, Unreadable) as exc:
        raise NnlabError(f"cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}") from None
    text = data.decode("utf-8", "replace")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise NnlabError(f"cannot read {path.name}: {exc}") from None
    if not rows:
        raise NnlabError(f"{path.name} is empty")
    header, body = rows[0][:MAX_COLS], [row[:MAX_COLS] for row in rows[1:MAX_ROWS + 1]]
    note = f"first {MAX_ROWS:,} of {len(rows) - 1:,} rows" if len(rows) - 1 > MAX_ROWS else ""
    return header, body, note


def short_headers(header: Sequence[str]) -> tuple[list[str], str]:
    """Drop a prefix every column but the first shares (`center_0`, `center_1` -> `0`, `1`); and say which."""
    rest = list(header[1:])
    if len(rest) < 2:
        return list(header), ""
    prefix = rest[0][:rest[0].rfind("_") + 1]
    if not prefix or not all(h.startswith(prefix) and len(h) > len(prefix) for h in rest):
        return list(header), ""
    return [header[0], *(h[len(prefix):] for h in rest)], f"columns: {prefix}j"


def check_export_target(path: Path, store: RunStore) -> Path:
    """Where an export may be written: outside the runs root and every run folder (the store's rule),
    as a file in a folder that exists. Raises NnlabError otherwise."""
    target = path.expanduser()
    store.check_output(target)
    if target.is_dir():
        raise NnlabError(f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise NnlabError(f"no folder {target.parent}; create it first or choose another path")
    return target


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write a CSV atomically (a temp file renamed over `path`); NnlabError on failure."""
    with atomic_output(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


class NumberTable(DataTable):
    """A DataTable of plain values: `s` sorts by the cursor's column, `y`/`Y` copy a cell/row."""

    BINDINGS = [
        Binding("s", "sort_column", "Sort"),
        Binding("y", "copy_cell", "Copy cell"),
        Binding("Y", "copy_row", "Copy row"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, cursor_type="cell", **kwargs)
        self.header: list[str] = []
        self.rows_data: list[list[Any]] = []
        self.sorted_by: tuple[int, bool] | None = None  # column, reverse

    def fill(self, header: Sequence[str], rows: Sequence[Sequence[Any]], labels: Sequence[str] | None = None) -> None:
        """Show these rows (values kept as given; `labels` are the shown column names)."""
        self.header, self.rows_data, self.sorted_by = list(header), [list(r) for r in rows], None
        self.clear(columns=True)
        for j, label in enumerate(labels or header):
            column = [r[j] for r in self.rows_data if j < len(r) and r[j] is not None]
            numeric = bool(column) and all(as_number(v) is not None for v in column)
            self.add_column(Text(plain(label, MAX_CELL), style="bold", justify="right" if numeric else "left"))
        self._draw()

    def _draw(self) -> None:
        self.clear()
        for row in self.rows_data:
            self.add_row(*(Text(cell_text(v), justify="right" if as_number(v) is not None else "left") for v in row))

    def current_row(self) -> list[Any] | None:
        """The values of the row under the cursor."""
        row = self.cursor_coordinate.row
        return self.rows_data[row] if 0 <= row < len(self.rows_data) else None

    def action_sort_column(self) -> None:
        """Sort by the cursor's column; again on the same column reverses. The cursor stays on its row."""
        column = self.cursor_coordinate.column
        if not self.rows_data or column >= len(self.header):
            return
        reverse = self.sorted_by == (column, False)
        current = self.current_row()
        self.rows_data.sort(key=lambda r: sort_key(r[column] if column < len(r) else None), reverse=reverse)
        self.sorted_by = (column, reverse)
        self._draw()
        if current is not None:
            row = next(i for i, r in enumerate(self.rows_data) if r is current)
            self.move_cursor(row=row, column=column, scroll=True)
        self.notify(f"sorted by {self.header[column]} {'↓' if reverse else '↑'}", timeout=2)

    def action_copy_cell(self) -> None:
        """Copy the cell under the cursor, at full precision."""
        row = self.current_row()
        column = self.cursor_coordinate.column
        if row is None or column >= len(row):
            return
        value = row[column]
        text = repr(value) if isinstance(value, float) else "" if value is None else str(value)
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {self.header[column]} = {text}", timeout=3)

    def action_copy_row(self) -> None:
        """Copy the row under the cursor as one CSV line."""
        row = self.current_row()
        if row is None:
            return
        out = io.StringIO()
        csv.writer(out).writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
        self.app.copy_to_clipboard(out.getvalue().rstrip("\r\n"))
        self.notify("copied the row as CSV", timeout=3)


class PathScreen(ModalScreen["Path | None"]):
    """Ask for a file path (export); Enter confirms, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, default: Path) -> None:
        super().__init__()
        self.prompt, self.default = prompt, default

    def compose(self):
        with Vertical(id="dialog"):
            yield Label(self.prompt)
            yield Input(str(self.default), id="path")
            yield Label("[dim]enter write · esc cancel[/]")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(Path(event.value) if event.value.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y or Enter says yes, n or Esc says no."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self):
        with Vertical(id="dialog"):
            yield Label(Text(self.question))
            yield Label("[b]y[/] yes · [b]n[/] or esc no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
