"""Small widgets the browser's screens share: a curve plot, a half-block image, a help screen.

They render what they are given; reading files is the screens' workers' job.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from nnlab.view.terminal import SERIES_COLORS, halfblock, line_plot

Series = dict[str, tuple[Sequence[float], Sequence[float]]]


class CurvePlot(Static):
    """A plotext line plot that redraws itself to fill its size, with its legend on the last line."""

    DEFAULT_CSS = "CurvePlot { height: 1fr; width: 1fr; }"

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.series: Series = {}
        self.title = ""
        self.xlabel = ""
        self.logy = False
        self.empty_message = "no metrics recorded yet"

    def show(self, series: Series, *, title: str = "", xlabel: str = "", logy: bool = False) -> None:
        """Plot these series (replacing what was shown)."""
        self.series, self.title, self.xlabel, self.logy = series, title, xlabel, logy
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Render at the current size; a hidden (zero-sized) plot waits for its next resize."""
        width, height = self.size.width, self.size.height
        if width < 20 or height < 6:
            return
        series = {k: v for k, v in self.series.items() if len(v[0])}
        if not series:
            self.update(Text(self.empty_message, style="dim"))
            return
        note = ""
        if self.logy:
            # a log axis cannot show zero or negative values: drop them and say so
            kept = {k: ([x for x, y in zip(*v) if y > 0], [y for y in v[1] if y > 0]) for k, v in series.items()}
            if sum(len(v[0]) for v in kept.values()) < sum(len(v[0]) for v in series.values()):
                note = "  (values <= 0 hidden on the log axis)"
            series = {k: v for k, v in kept.items() if v[0]}
            if not series:
                self.update(Text("no positive values to plot on a log axis", style="dim"))
                return
        legend = legend_text(list(series), width)
        plot = line_plot(series, title=self.title, xlabel=self.xlabel, logy=self.logy,
                         width=width, height=height - legend.plain.count("\n") - 1, legend=False)
        plot.rstrip()  # plotext ends with a newline, which would push the legend out of view
        self.update(Group(plot, legend + Text(note, style="dim")))


def legend_text(labels: list[str], width: int) -> Text:
    """Coloured `━ label` entries, wrapped to `width`, in the colours line_plot gives the series."""
    text = Text(no_wrap=False)
    col = 0
    for i, label in enumerate(labels):
        entry = f"━━ {label}  "
        if col and col + len(entry) > width:
            text.append("\n")
            col = 0
        text.append("━━ ", style=f"color({SERIES_COLORS[i % len(SERIES_COLORS)]})")
        text.append(f"{label}  ")
        col += len(entry)
    return text


class ImageView(Static):
    """An image drawn with half-block characters."""

    DEFAULT_CSS = "ImageView { width: auto; height: auto; }"

    def show(self, image, max_width: int) -> None:
        """Draw `image` ((H, W[, 3]) in [0, 1]) at most `max_width` cells wide (the box scrolls)."""
        self.update(halfblock(image, max_width=max(1, max_width)))


# ---- help ---------------------------------------------------------------------------------

HELP = """\
[b]nnlab browse[/b]: runs read from plain files; running ones update live.

[b]Table[/b]    j/k or ↑/↓ move · pgup/pgdn page · g/G or home/end first/last
         enter open · space select · c compare
         / filter · esc clear it · s sort column · S reverse order
         d delete · r re-run (both ask first) · x unselect · ctrl+r reload
[b]Filter[/b]   command:kmeans  status:failed  status:stale  lr:4.5
         any config key works; bare words match id, command, status
         and config values; every term must match
[b]Run[/b]      1 overview · 2 curves · 3 images · 4 log · 5 trials
         m/M metric · e per epoch or step · l log-y
         v the values under the curve (x export to CSV)
         n/p image · +/- zoom · v a figure's table or its picture
[b]Tables[/b]   s sort by the cursor's column (again: reverse)
         y copy the cell · Y copy the row as CSV
[b]Compare[/b]  1 curves · 2 config diff (only the keys that differ)
         f split: all, train or test
[b]Anywhere[/b] esc back · q quit · t light/dark · ctrl+p commands · ? help

Status [b red]unreadable[/]: run.json missing or corrupt (reason shown).
Status [magenta]stale[/]: marked running, but its process here is gone.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and filter syntax."""

    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close"), Binding("q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(HELP, markup=True)
