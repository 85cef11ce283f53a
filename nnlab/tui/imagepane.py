"""The Images tab: a run's figures in half-blocks or real pixels, and the CSV beside a figure as a table.

A figure with a CSV of the same name (kmeans `network_table.png` + `.csv`, `confusion.png`
+ `.csv`) opens as a table, which stays readable where a 10x10 heatmap in half-blocks is
not; `v` switches to the picture and back. Files are read in thread workers.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.widgets import Static

from nnlab.errors import NnlabError
from nnlab.runs import images
from nnlab.tui import pixels
from nnlab.tui.tables import NumberTable, read_csv_table, short_headers
from nnlab.tui.widgets import ImageView
from nnlab.view.graphics import Graphics, to_pil

MAX_ZOOM = 4


class ImagePane(Vertical):
    """Figures of one run, one at a time: n/p move, +/- zoom, v table or picture."""

    def __init__(self, graphics: Graphics, **kwargs) -> None:
        super().__init__(**kwargs)
        self.graphics = graphics
        self.paths: list[Path] = []
        self.artifact_paths: set[Path] = set()
        self.index = 0
        self.zoom = 1
        self.image = None  # the current figure as read, before fitting
        self.table_view = True  # a figure with a CSV beside it opens as its table
        self.table_note = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="image-info", classes="info")
        with ScrollableContainer(id="image-box"):
            yield ImageView(id="image")
            if self.graphics.pixels:
                yield pixels.pixel_widget(self.graphics.mode, id="pixels")
        yield NumberTable(id="csv-table")

    def on_mount(self) -> None:
        self.query_one("#csv-table").display = False
        if self.graphics.pixels:
            self.query_one("#pixels").display = False

    # ---- which figure -------------------------------------------------------------------

    @property
    def current(self) -> Path | None:
        """The figure shown, or None when the run has none."""
        return self.paths[self.index % len(self.paths)] if self.paths else None

    def csv_beside(self, path: Path) -> Path | None:
        """The CSV of the same name next to a figure, if the run saved one."""
        candidate = path.with_suffix(".csv")
        return candidate if candidate in self.artifact_paths else None

    def set_images(self, paths: list[Path], artifacts: list[Path]) -> None:
        """The run's figures (first shown first) and all its artifacts (to find CSVs beside them)."""
        self.artifact_paths = set(artifacts)
        keep = self.current
        self.paths = paths
        self.index = paths.index(keep) if keep in paths else 0
        self.show()

    def show(self) -> None:
        """Draw the current figure, or its table, reading it in a worker."""
        path = self.current
        view = self.query_one("#image", ImageView)
        if path is None:
            self.query_one("#image-info", Static).update("this run saved no images")
            view.update("")
            return
        table = self.csv_beside(path)
        if table is not None and self.table_view:
            self.read_table(table)
        elif self.graphics.mode == "none":
            self.image = None
            self._show_part("image")
            view.update(Text(f"{path} (not drawn: --images none)", style="dim"))
        else:
            self.read_image(path)
        self.show_info()

    def show_info(self) -> None:
        """The line above the figure: file, position, zoom or table, keys."""
        path = self.current
        if path is None:
            return
        position = f"{self.index % len(self.paths) + 1}/{len(self.paths)}"
        where = f"{path.name} ({position})"
        has_table = self.csv_beside(path) is not None
        if has_table and self.table_view:
            note = f" · {self.table_note}" if self.table_note else ""
            info = Text.assemble(f"{path.with_suffix('.csv').name} ({position}) as a table{note}",
                                 ("   n/p image · v picture · s sort · y copy", "dim"))
        else:
            mode = "" if self.graphics.mode == "halfblock" else f" · {self.graphics.mode}"
            info = Text.assemble(f"{where} · zoom {self.zoom}x{mode}",
                                 ("   n/p image · +/- zoom" + (" · v table" if has_table else ""), "dim"))
        self.query_one("#image-info", Static).update(info)

    # ---- workers ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="image")
    def read_image(self, path: Path) -> None:
        """Read a PNG off the UI thread, then fit and draw it."""
        try:
            image = images.read_image(path)
        except NnlabError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        self.app.call_from_thread(self._image_read, image)

    @work(thread=True, exclusive=True, group="image")
    def read_table(self, path: Path) -> None:
        """Read the CSV beside a figure off the UI thread."""
        try:
            header, rows, note = read_csv_table(path)
        except NnlabError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        self.app.call_from_thread(self._table_read, header, rows, note)

    def _failed(self, message: str) -> None:
        self.image = None
        self._show_part("image")
        self.query_one("#image", ImageView).update(Text(message, style="red"))

    def _table_read(self, header: list[str], rows: list[list[str]], note: str) -> None:
        labels, legend = short_headers(header)
        self.table_note = " · ".join(x for x in (legend, note) if x)
        table = self.query_one("#csv-table", NumberTable)
        table.fill(header, rows, labels)
        self._show_part("table")
        self.show_info()

    def _show_part(self, part: str) -> None:
        self.query_one("#image-box").display = part != "table"
        self.query_one("#csv-table").display = part == "table"

    def _image_read(self, image) -> None:
        """Fit the figure to the box (re-laying a wide grid of tiles), times the zoom."""
        self.image = image
        self._show_part("image")
        box = self.query_one("#image-box", ScrollableContainer)
        cols = (box.size.width or self.size.width or 78) - 2  # room for the vertical scrollbar
        rows = box.size.height or max(4, (self.size.height or 20) - 2)
        view = self.query_one("#image", ImageView)
        if self.graphics.pixels:
            cw, ch = pixels.cell_size()  # reflow_tiles counts 1 pixel a column, 2 a row
            fitted = images.reflow_tiles(image, cols * cw * self.zoom, rows * ch * self.zoom // 2)
            view.display = False
            widget = self.query_one("#pixels")
            widget.display = True
            pixels.show_pixels(widget, to_pil(fitted),
                               pixels.fit_cells(fitted.shape[1], fitted.shape[0], cols, rows, self.zoom))
            return
        fitted = images.reflow_tiles(image, cols * self.zoom, rows * self.zoom)
        height, width = fitted.shape[:2]
        # shrink by the integer factor that fits both ways (2 pixel rows per line); zooming
        # divides it, and the box scrolls
        factor = max(1, -(-width // cols), -(-height // (2 * rows)))
        factor = max(1, -(-factor // self.zoom))
        view.display = True
        view.show(fitted, -(-width // factor))

    def refit(self) -> None:
        """Fit the figure again (its tab was hidden when it was read, so it was fitted to nothing)."""
        if self.image is not None and not (self.table_view and self.current and self.csv_beside(self.current)):
            self._image_read(self.image)

    # ---- keys (called by the screen) ----------------------------------------------------

    def step(self, delta: int) -> None:
        """Show the next (or previous) figure."""
        if self.paths:
            self.index = (self.index + delta) % len(self.paths)
            self.zoom = 1
            self.show()

    def zoom_by(self, delta: int) -> None:
        """Zoom the picture in or out (1x to MAX_ZOOM x)."""
        new = min(max(1, self.zoom + delta), MAX_ZOOM)
        if new != self.zoom and self.image is not None:
            self.zoom = new
            self._image_read(self.image)
            self.show_info()

    def toggle_table(self) -> None:
        """Switch between a figure's table (its CSV) and its picture."""
        if self.current is not None and self.csv_beside(self.current) is not None:
            self.table_view = not self.table_view
            self.show()
