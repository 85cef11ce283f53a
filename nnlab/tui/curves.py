"""The curve keys shared by the run and compare screens: which metric, epochs or steps, log-y."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.markup import escape
from textual.binding import Binding


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
        epochs = {r.get("epoch") for r in rows if isinstance(r.get("epoch"), (int, float))}
        self.by = "epoch" if len(epochs) >= 5 else "step"

    def describe(self, more: str = "") -> str:
        """The info line above the plot (Rich markup), with the keys (`more`: the screen's own)."""
        split = "" if self.split == "all" else f" · {self.split} only"
        return (f"{escape(self.name or 'no metric')} · per {self.by} · {'log' if self.logy else 'linear'} y{split}"
                f"   [dim]m metric · e epoch/step · l log-y{more}[/]")


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
