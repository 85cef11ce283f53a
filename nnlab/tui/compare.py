"""Compare several runs: their curves overlaid with a legend, and the config keys that differ."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from nnlab.errors import NnlabError
from nnlab.runs import query, series
from nnlab.runs.store import Run
from nnlab.tui.curves import CURVE_BINDINGS, CurveActions, CurveState
from nnlab.tui.widgets import CurvePlot
from nnlab.view.overview import diff_table

SPLITS = ("all", "train", "test")


def run_label(run: Run, runs: list[Run]) -> str:
    """A short name for a run in a legend: its id's random suffix, plus the command if they differ."""
    label = run.id[-6:]
    if len({r.command for r in runs}) > 1:
        label = f"{run.command} {label}"
    return label


class CompareScreen(CurveActions, Screen):
    """Overlaid curves of the selected runs and their config diff."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
        Binding("1", "tab('curves')", "Curves", show=False),
        Binding("2", "tab('diff')", "Diff", show=False),
        *CURVE_BINDINGS,
        Binding("f", "split", "Split"),
    ]

    def __init__(self, runs: list[Run]) -> None:
        super().__init__()
        self.runs = runs
        self.metrics: dict[str, list[dict]] = {}
        self.curve = CurveState()
        self.loaded = False

    def compose(self) -> ComposeResult:
        ids = ", ".join(run_label(r, self.runs) for r in self.runs)
        yield Static(Text.assemble(("compare ", "bold"), f"{len(self.runs)} runs: {ids}"), id="compare-title",
                     classes="title")
        with TabbedContent(initial="curves", id="compare-tabs"):
            with TabPane("1 Curves", id="curves"):
                yield Static("loading…", id="compare-info", classes="info")
                yield CurvePlot(id="compare-plot")
            with TabPane("2 Config diff", id="diff"):
                with VerticalScroll():
                    yield Static("loading…", id="diff-body")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Read every run's metrics and summary, off the UI thread."""
        metrics = {run.id: run.metrics() for run in self.runs if not run.error}
        rows: list[tuple[str, list]] = []
        try:
            rows = query.diff_runs(self.runs)
            diff = diff_table([run_label(r, self.runs) for r in self.runs], rows) if rows else Text("no differences: same config and summary")
        except NnlabError as exc:
            diff = Text(exc.message, style="red")
        self.app.call_from_thread(self._loaded, metrics, rows, diff)

    def _loaded(self, metrics: dict[str, list[dict]], rows: list[tuple[str, list]], diff) -> None:
        self.metrics = metrics
        self.diff_rows = rows
        names: list[str] = []
        for rows in metrics.values():
            names.extend(n for n in series.metric_names(rows) if n not in names)
        self.curve.names = sorted(names, key=lambda n: n != "loss")
        self.curve.choose_axis([r for rows in metrics.values() for r in rows])
        self.loaded = True
        self.query_one("#diff-body", Static).update(diff)
        self.draw_curves()

    def draw_curves(self) -> None:
        """Overlay the current metric of every run (and split), one colour per series."""
        name = self.curve.name
        info = self.query_one("#compare-info", Static)
        if name is None:
            info.update("none of these runs recorded metrics")
            return
        lines = {}
        for run in self.runs:
            for split, xy in series.curves(self.metrics.get(run.id, []), name, self.curve.by).items():
                if self.curve.split in ("all", split):
                    lines[f"{run_label(run, self.runs)} {split}"] = xy
        info.update(Text.from_markup(self.curve.describe(" · f split")))
        self.query_one("#compare-plot", CurvePlot).show(lines, title=name, xlabel=self.curve.by,
                                                         logy=self.curve.logy)


    def action_split(self) -> None:
        self.curve.split = SPLITS[(SPLITS.index(self.curve.split) + 1) % len(SPLITS)]
        self.action_tab("curves")
        self.draw_curves()

    def action_tab(self, tab: str) -> None:
        self.query_one("#compare-tabs", TabbedContent).active = tab

    def action_back(self) -> None:
        self.app.pop_screen()
