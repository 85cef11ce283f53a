"""One run's screen: overview, curves (and the numbers under them), images, console log, trials.

Files are read in thread workers; a running run's new metrics, log lines and trials are
polled every second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from nnlab.errors import NnlabError
from nnlab.runs import images, series
from nnlab.runs.store import Run, RunStore
from nnlab.tui.curves import CURVE_BINDINGS, CurveActions, CurveState
from nnlab.tui.imagepane import ImagePane
from nnlab.tui.logpane import LogFollower, LogPane
from nnlab.tui.study import Study, StudyPane, read_study
from nnlab.tui.tables import ConfirmScreen, NumberTable, PathScreen, check_export_target, write_csv
from nnlab.tui.values import VALUE_COLUMNS, ValuesPane
from nnlab.tui.widgets import CurvePlot
from nnlab.view.graphics import Graphics
from nnlab.view.overview import run_overview, run_title

LIVE_POLL_S = 1.0
HALFBLOCK = Graphics("halfblock", "default")
TABS = ("overview", "curves", "images", "log", "trials")


class RunScreen(CurveActions, Screen):
    """Everything about one run."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit"),
        *(Binding(str(i), f"tab('{tab}')", tab.title(), show=False) for i, tab in enumerate(TABS, 1)),
        *CURVE_BINDINGS,
        Binding("v", "values", "Values/table"),
        Binding("x", "export", "Export CSV", show=False),
        Binding("n", "image(1)", "Next image"),
        Binding("p", "image(-1)", "Prev image", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom", show=False),
        Binding("minus", "zoom(-1)", "Zoom out", show=False),
    ]

    def __init__(self, run: Run, *, graphics: Graphics = HALFBLOCK,
                 children: Callable[[], list[Run]] = list, store: RunStore | None = None,
                 export_dir: Path | None = None) -> None:
        super().__init__()
        self.run = run
        self.graphics = graphics
        self.child_runs = children  # the run's child runs (trials), as the runs table knows them
        self.store = store or RunStore(run.path.parent)
        self.export_dir = export_dir or Path.cwd()  # exports go where the user works, never under the runs root
        self.rows: list[dict] = []
        self.follower = series.MetricsFollower.for_run(run)
        self.log_follower = LogFollower.for_run(run)
        self.curve = CurveState()
        self.summary: dict = {}
        self.show_values = False
        self.values_shown: list[list] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(id="run-title", classes="title")
        with TabbedContent(initial="overview", id="run-tabs"):
            with TabPane("1 Overview", id="overview"):
                with VerticalScroll(id="overview-scroll"):
                    yield Static("loading…", id="overview-body")
            with TabPane("2 Curves", id="curves"):
                yield Static("", id="curve-info", classes="info")
                yield CurvePlot(id="curve-plot")
                yield ValuesPane(id="values")
            with TabPane("3 Images", id="images"):
                yield ImagePane(self.graphics, id="image-pane")
            with TabPane("4 Log", id="log"):
                yield LogPane(self.log_follower, id="log-pane")
            with TabPane("5 Trials", id="trials"):
                yield StudyPane(id="study")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#values").display = False
        self._title()
        self.load(self.child_runs())
        self.poller = None
        if self.run.info.get("status") == "running" and not self.run.error:
            self.poller = self.set_interval(LIVE_POLL_S, lambda: self.poll(self.child_runs()))

    def _title(self) -> None:
        self.query_one("#run-title", Static).update(run_title(self.run, prefix="run "))

    # ---- workers: all file reading happens here, off the UI thread ----------------------

    @work(thread=True, exclusive=True, group="load")
    def load(self, children: list[Run]) -> None:
        """Read summary, artifacts, log and trials, and the metrics not read yet (all, the first time)."""
        run = self.run
        summary = run.summary() if not run.error else {}
        artifacts = run.artifacts() if not run.error else []
        rows = self.follower.poll() if not run.error else []
        pictures = images.image_artifacts(run) if not run.error else []
        log = self.log_follower.poll()
        study = read_study(run, children) if children else None
        self.app.call_from_thread(self._loaded, summary, artifacts, rows, pictures, log, study)

    def _loaded(self, summary: dict, artifacts: list, rows: list[dict], pictures: list,
                log: list[str], study: Study | None) -> None:
        self.rows.extend(rows)  # a reload (the run just ended) brings only the last lines
        self.summary = summary
        self.curve.names = series.metric_names(self.rows)
        if not self.loaded:  # keep the user's epoch/step choice on a reload
            self.curve.choose_axis(self.rows)
        self.loaded = True
        self.query_one("#overview-body", Static).update(run_overview(self.run, summary, artifacts, self.rows))
        self.query_one(ValuesPane).show_summary(summary)
        self.draw_curves()
        self.query_one(ImagePane).set_images(pictures, artifacts)
        self.query_one(LogPane).add(log, self.run.status == "running")
        self.query_one(StudyPane).show(study)

    @work(thread=True, exclusive=True, group="poll")
    def poll(self, children: list[Run]) -> None:
        """New metric lines, log lines, trials and the run's status, for a run that is still going."""
        if not self.loaded:  # the first load is still reading: one reader of each file at a time
            return
        new_rows = self.follower.poll()
        log = self.log_follower.poll()
        fresh = Run.load(self.run.path)
        study = read_study(fresh, [Run.load(c.path) for c in children]) if children else None
        self.app.call_from_thread(self._polled, new_rows, log, fresh, study)

    def _polled(self, new_rows: list[dict], log: list[str], fresh: Run, study: Study | None) -> None:
        status_changed = not fresh.error and fresh.info.get("status") != self.run.info.get("status")
        if not fresh.error:
            self.run = fresh
        if new_rows:
            self.rows.extend(new_rows)
            self.curve.names = series.metric_names(self.rows)
            self.draw_curves()
        self.query_one(LogPane).add(log, self.run.status == "running")
        if study is not None:
            self.query_one(StudyPane).show(study)
        self._title()
        if status_changed:  # finished: summary and artifacts are now written
            if self.poller is not None and fresh.info.get("status") != "running":
                self.poller.stop()
            self.load(self.child_runs())

    # ---- curves and their values --------------------------------------------------------

    def draw_curves(self) -> None:
        """Plot the current metric for every split, and fill the values table with the same points."""
        name = self.curve.name
        info = self.query_one("#curve-info", Static)
        plot = self.query_one("#curve-plot", CurvePlot)
        self.values_shown = self.query_one(ValuesPane).show_values(name, self.curve.by, self.rows)
        if name is None:
            info.update("no metrics recorded" + (" yet" if self.run.status == "running" else ""))
            plot.show({})
            return
        keys = " · v plot · x export · s sort · y copy" if self.show_values else " · v values"
        info.update(Text.from_markup(self.curve.describe(keys)))
        plot.show(series.curves(self.rows, name, self.curve.by), title=name, xlabel=self.curve.by,
                  logy=self.curve.logy)

    def action_values(self) -> None:
        """v: in Curves, the plot or its values table; in Images, a figure's table or its picture."""
        tabs = self.query_one("#run-tabs", TabbedContent)
        if tabs.active == "images":
            self.query_one(ImagePane).toggle_table()
            return
        self.show_values = not self.show_values
        self.action_tab("curves")
        self.query_one("#curve-plot").display = not self.show_values
        self.query_one("#values").display = self.show_values
        self.draw_curves()
        if self.show_values:
            self.query_one("#values-table", NumberTable).focus()

    def action_export(self) -> None:
        """x: write the values table to a CSV (asked where; never into a run folder, never over a file unasked)."""
        if not self.show_values or not self.values_shown:
            self.notify("press v in the Curves tab first: x exports its values table", severity="warning")
            return
        name = (self.curve.name or "values").replace("/", "_")
        default = self.export_dir / f"{self.run.id}.{name}.{self.curve.by}.csv"
        self.app.push_screen(PathScreen(f"export {len(self.values_shown)} rows of {name} to:", default),
                             self._export_to)

    def _export_to(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            target = check_export_target(path, self.store)
        except NnlabError as exc:
            self.notify(exc.message, severity="error")
            return
        if target.exists():
            self.app.push_screen(ConfirmScreen(f"{target} exists. Replace it?"),
                                 lambda yes: self._write_export(target) if yes else None)
            return
        self._write_export(target)

    def _write_export(self, target: Path) -> None:
        header = [*VALUE_COLUMNS[:3], self.curve.name or "value"]
        try:
            write_csv(target, header, self.values_shown)
        except NnlabError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(f"wrote {len(self.values_shown)} rows to {target}")

    # ---- images -------------------------------------------------------------------------

    def action_image(self, delta: int) -> None:
        self.action_tab("images")
        self.query_one(ImagePane).step(delta)

    def action_zoom(self, delta: int) -> None:
        self.action_tab("images")
        self.query_one(ImagePane).zoom_by(delta)

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        # an image read while its tab was hidden was fitted to a zero width: redo it
        if event.pane.id == "images":
            self.call_after_refresh(self.query_one(ImagePane).refit)
        # arrows then scroll or move in the tab's content (a long config, a zoomed image, a table)
        target = {"overview": "#overview-scroll", "images": "#image-box", "log": "#log-view",
                  "trials": "#trials-table"}.get(event.pane.id)
        if event.pane.id == "images" and self.query_one("#csv-table").display:
            target = "#csv-table"
        if event.pane.id == "curves" and self.show_values:
            target = "#values-table"
        if target:
            self.query_one(target).focus()

    # ---- navigation ---------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one("#run-tabs", TabbedContent).active = tab

    def action_back(self) -> None:
        self.app.pop_screen()
