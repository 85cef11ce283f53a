"""The numbers under a curve: the plotted values as a table (step, epoch, split, value), and the summary."""

from __future__ import annotations

import math
from typing import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from nnlab.runs import query
from nnlab.tui.tables import NumberTable
from nnlab.view.format import format_value

VALUE_COLUMNS = ("step", "epoch", "split", "value")


def plotted_records(rows: Iterable[dict], name: str, by: str) -> list[dict]:
    """The records the curve of metric `name` per `by` draws: per split, the last one at each x.

    The same choice as nnlab.runs.series.curves, so the table holds exactly the plotted points.
    """
    kept: dict[tuple[str, float], dict] = {}
    for row in rows:
        x, y = row.get(by), row.get("value")
        if row.get("name") != name or isinstance(x, bool) or not isinstance(x, (int, float)):
            continue
        if isinstance(y, bool) or not isinstance(y, (int, float)) or not math.isfinite(y):
            continue
        kept[(str(row.get("split") or "all"), x)] = row
    return sorted(kept.values(), key=lambda r: (str(r.get("split") or "all"), r[by]))


def value_rows(records: list[dict]) -> list[list]:
    """Records as table rows in VALUE_COLUMNS order (odd types shown as text)."""
    def plain(v):
        return v if v is None or isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    return [[plain(r.get("step")), plain(r.get("epoch")), str(r.get("split") or "all"), r.get("value")]
            for r in records]


class ValuesPane(Vertical):
    """The plotted values of the current metric, and the run's summary metrics, as tables."""

    def compose(self) -> ComposeResult:
        yield NumberTable(id="values-table")
        yield Static("summary", id="summary-title", classes="info")
        yield NumberTable(id="summary-table")

    def show_values(self, name: str | None, by: str, rows: list[dict]) -> list[list]:
        """Fill the values table for metric `name` per `by`; returns the rows shown."""
        table = self.query_one("#values-table", NumberTable)
        shown = value_rows(plotted_records(rows, name, by)) if name else []
        table.fill(VALUE_COLUMNS, shown, [*VALUE_COLUMNS[:3], name or "value"])
        return shown

    def show_summary(self, summary: dict) -> None:
        """Fill the summary table: one row per (flattened) summary key."""
        items = [[k, v if isinstance(v, (int, float)) and not isinstance(v, bool) else format_value(v)]
                 for k, v in query.flatten(summary).items()]
        self.query_one("#summary-title", Static).update(f"summary ({len(items)} values)" if items else "no summary")
        self.query_one("#summary-table", NumberTable).fill(("metric", "value"), items)
