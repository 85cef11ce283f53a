"""One run's screen: overview (facts, config, summary, artifacts), metric curves, images.

Files are read in thread workers; a running run's new metrics are polled every second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from nnlab.errors import NnlabError
from nnlab.runs import images, query, series
from nnlab.runs.store import Run
from nnlab.tui.widgets import CurvePlot, ImageView
from nnlab.view.overview import run_overview, run_title

LIVE_POLL_S = 1.0
MAX_ZOOM = 4


@dataclass
class CurveState:
    """What the curves show: which metric, against epochs or steps, log-y, which split."""

    names: list[str] = field(default_factory=list)
    index: int = 0
    by: str = "epoch"
    logy: bool = False
    split: str = "all"  # all, or one split (compare screen)

    @property
    def name(self) -> str | None:
        """The metric shown, or None when the run has none."""
        return self.names[self.index % len(self.names)] if self.names else None

    def choose_axis(self, rows: list[dict]) -> None:
        """Per epoch when there are enough epochs to draw a line, else per step."""
        epochs = {r.get("epoch") for r in rows if r.get("epoch") is not None}
        self.by = "epoch" if len(epochs) >= 5 else "step"

    def describe(self) -> str:
        """The info line above the plot (Rich markup)."""
        split = "" if self.split == "all" else f" · {self.split} only"
        return (f"{self.name or 'no metric'} · per {self.by} · {'log' if self.logy else 'linear'} y{split}"
                f"   [dim]m metric · e epoch/step · l log-y[/]")


CURVE_BINDINGS = [
    Binding("m", "metric(1)", "Metric"),
    Binding("M", "metric(-1)", "Prev metric", show=False),
    Binding("e", "toggle_axis", "Epoch/step"),
    Binding("l", "toggle_log", "Log-y"),
]


class CurveActions:
    """The curve keys (metric, epoch/step, log-y) for a screen with `curve`, `action_tab` and `draw_curves`."""

    curve: CurveState

    def action_metric(self, delta: int) -> None:
        """Show the next (or previous) metric."""
        if self.curve.names:
            self.curve.index = (self.curve.index + delta) % len(self.curve.names)
            self.action_tab("curves")
            self.draw_curves()

    def action_toggle_axis(self) -> None:
        """Switch the x axis between epochs and steps."""
        self.curve.by = "step" if self.curve.by == "epoch" else "epoch"
        self.action_tab("curves")
        self.draw_curves()

    def action_toggle_log(self) -> None:
        """Switch the y axis between linear and log."""
        self.curve.logy = not self.curve.logy
        self.action_tab("curves")
        self.draw_curves()


class RunScreen(CurveActions, Screen):
    """Everything about one run."""

    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('curves')", "Curves", show=False),
        Binding("3", "tab('images')", "Images", show=False),
        *CURVE_BINDINGS,
        Binding("n", "image(1)", "Next image"),
        Binding("p", "image(-1)", "Prev image", show=False),
        Binding("plus,equals_sign", "zoom(1)", "Zoom", show=False),
        Binding("minus", "zoom(-1)", "Zoom out", show=False),
    ]

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.rows: list[dict] = []
        self.follower = series.MetricsFollower.for_run(run)
        self.curve = CurveState()
        self.images: list = []
        self.image_index = 0
        self.zoom = 1
        self.image = None  # the current image as read, before fitting
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
            with TabPane("3 Images", id="images"):
                yield Static("", id="image-info", classes="info")
                with ScrollableContainer(id="image-box"):
                    yield ImageView(id="image")
        yield Footer()

    def on_mount(self) -> None:
        self._title()
        self.load()
        self.poller = None
        if self.run.info.get("status") == "running" and not self.run.error:
            self.poller = self.set_interval(LIVE_POLL_S, self.poll)

    def _title(self) -> None:
        self.query_one("#run-title", Static).update(run_title(self.run, prefix="run "))

    # ---- workers: all file reading happens here, off the UI thread ----------------------

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Read summary, artifacts and the metrics not read yet (all of them, the first time)."""
        run = self.run
        summary = run.summary() if not run.error else {}
        artifacts = run.artifacts() if not run.error else []
        rows = self.follower.poll() if not run.error else []
        pictures = images.image_artifacts(run) if not run.error else []
        self.app.call_from_thread(self._loaded, summary, artifacts, rows, pictures)

    def _loaded(self, summary: dict, artifacts: list, rows: list[dict], pictures: list) -> None:
        self.rows.extend(rows)  # a reload (the run just ended) brings only the last lines
        self.summary, self.artifacts, self.images = summary, artifacts, pictures
        self.curve.names = series.metric_names(self.rows)
        if not self.loaded:  # keep the user's epoch/step choice on a reload
            self.curve.choose_axis(self.rows)
        self.loaded = True
        self.query_one("#overview-body", Static).update(run_overview(self.run, summary, artifacts, rows))
        self.draw_curves()
        self.show_image()

    @work(thread=True, exclusive=True, group="poll")
    def poll(self) -> None:
        """New metric lines and the run's status, for a run that is still going."""
        if not self.loaded:  # the first load is still reading: one reader of the file at a time
            return
        new_rows = self.follower.poll()
        fresh = Run.load(self.run.path)
        self.app.call_from_thread(self._polled, new_rows, fresh)

    def _polled(self, new_rows: list[dict], fresh: Run) -> None:
        status_changed = not fresh.error and fresh.info.get("status") != self.run.info.get("status")
        if not fresh.error:
            self.run = fresh
        if new_rows:
            self.rows.extend(new_rows)
            names = series.metric_names(self.rows)
            if names != self.curve.names:
                self.curve.names = names
            self.draw_curves()
        self._title()
        if status_changed:  # finished: summary and artifacts are now written
            if self.poller is not None and fresh.info.get("status") != "running":
                self.poller.stop()
            self.load()

    # ---- curves -------------------------------------------------------------------------

    def draw_curves(self) -> None:
        """Plot the current metric for every split."""
        name = self.curve.name
        info = self.query_one("#curve-info", Static)
        plot = self.query_one("#curve-plot", CurvePlot)
        if name is None:
            info.update("no metrics recorded" + (" yet" if self.run.status == "running" else ""))
            plot.show({})
            return
        info.update(Text.from_markup(self.curve.describe()))
        lines = series.curves(self.rows, name, self.curve.by)
        plot.show(lines, title=name, xlabel=self.curve.by, logy=self.curve.logy)


    # ---- images -------------------------------------------------------------------------

    def show_image(self) -> None:
        """Draw the current image artifact, read in a worker."""
        if not self.images:
            self.query_one("#image-info", Static).update("this run saved no images")
            self.query_one("#image", ImageView).update("")
            return
        self.show_image_info()
        self.read_image(self.images[self.image_index % len(self.images)])

    def show_image_info(self) -> None:
        """The line above the image: file, position, zoom, keys."""
        path = self.images[self.image_index % len(self.images)]
        self.query_one("#image-info", Static).update(
            f"{path.name} ({self.image_index % len(self.images) + 1}/{len(self.images)}) · zoom {self.zoom}x"
            "   [dim]n/p image · +/- zoom[/]")

    @work(thread=True, exclusive=True, group="image")
    def read_image(self, path) -> None:
        """Read a PNG off the UI thread, then fit and draw it."""
        try:
            image = images.read_image(path)
        except NnlabError as exc:
            self.app.call_from_thread(self._image_failed, exc.message)
            return
        self.app.call_from_thread(self._image_read, image)

    def _image_failed(self, message: str) -> None:
        self.image = None
        self.query_one("#image", ImageView).update(Text(message, style="red"))

    def _image_read(self, image) -> None:
        """Fit the image to the box (re-laying a wide grid of tiles), times the zoom."""
        self.image = image
        box = self.query_one("#image-box", ScrollableContainer)
        cols = (box.size.width or self.size.width) - 2  # room for the vertical scrollbar
        rows = box.size.height or max(4, self.size.height - 6)
        fitted = images.reflow_tiles(image, cols * self.zoom, rows * self.zoom)
        height, width = fitted.shape[:2]
        # shrink by the integer factor that fits both ways (2 pixel rows per line); zooming
        # divides it, and the box scrolls
        factor = max(1, -(-width // cols), -(-height // (2 * rows)))
        factor = max(1, -(-factor // self.zoom))
        self.query_one("#image", ImageView).show(fitted, -(-width // factor))

    def action_image(self, delta: int) -> None:
        if self.images:
            self.image_index = (self.image_index + delta) % len(self.images)
            self.zoom = 1
            self.action_tab("images")
            self.show_image()

    def action_zoom(self, delta: int) -> None:
        new = min(max(1, self.zoom + delta), MAX_ZOOM)
        self.action_tab("images")
        if new != self.zoom and self.image is not None:
            self.zoom = new
            self._image_read(self.image)
            self.show_image_info()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        # an image read while its tab was hidden was fitted to a zero width: redo it
        if event.pane.id == "images" and self.image is not None:
            self.call_after_refresh(self._image_read, self.image)
        # arrows then scroll the tab's content (a long config, a zoomed image)
        scroller = {"overview": "#overview-scroll", "images": "#image-box"}.get(event.pane.id)
        if scroller:
            self.query_one(scroller).focus()

    # ---- navigation ---------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one("#run-tabs", TabbedContent).active = tab

    def action_back(self) -> None:
        self.app.pop_screen()
