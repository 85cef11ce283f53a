"""Settings of `nnlab adam` and `nnlab adam escape`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from nnlab.experiments.base import Config, option
from nnlab.tools.adam_sim import FUNCTIONS, OPTIMIZERS

MAX_STEPS = 10_000  # every step is a table row, 7 metrics and a CSV line
MAX_SPAN = 1e6  # bump sizes and starts: far beyond the assignment's, and still plottable
# options both commands take, declared once
BETA1 = dict(default=0.9, help="β1: Adam's first-moment decay; the momentum coefficient.", min=0, max=1,
             max_open=True)
BETA2 = dict(default=0.999, help="β2: Adam's second-moment decay.", min=0, max=1, max_open=True)
EPS = dict(default=0.0, help="Adam's ε (0 allowed, as in the assignment).", min=0, max=1)
BUMP_L = dict(default=1.0, help="Bump: distance from the start O to the local minimum at its foot (the seed's "
              "L = 1).", min=0, min_open=True, max=MAX_SPAN)
LR_RANGE = dict(min=0, min_open=True, max=1000)


@dataclass(frozen=True, kw_only=True)
class AdamConfig(Config):
    """Optimise a 1-D loss and show g_t, m_t, v_t, m̂_t, v̂_t and x_t for every step.

    A table, one terminal plot of all six against t, and trace.csv + trace.png in the run.
    The bump loss is f(x) = L − x for x < L, h − |x − L − h| for x ≥ L (start O at x = 0).
    Defaults are question 1's (α = 0.3, ε = 0, 30 steps, bump L=1 h=0.5).

    Assumed, because the seed's figure 1 is missing: the loss falls at slope −1 from O to a
    local minimum at x = L; the bump is a triangle h high and 2h wide ("h × 2h"), so its
    sides rise and fall at slope ±1; past the peak the loss keeps falling at slope −1, so a
    run escapes once it reaches the peak x = L + h. Other slopes give other answers.
    """

    fn: str = option("bump", "Loss: bump (question 1), relu, sigmoid, abs or quadratic (x²). The bump's figure is "
                     "missing; assumed: slope −1 from O (x = 0) to a minimum at L, then a triangle h high and 2h "
                     "wide (slopes ±1), falling on past its peak.", choices=FUNCTIONS)
    optimizer: str = option("adam", "gd, momentum or adam.", choices=OPTIMIZERS, short="-o")
    # None: 0 (the point O) for the bump, 2 for the others (question 1.4)
    x0: Optional[float] = option(None, "Start; by default 0 (the point O) for bump, 2 for the others.",
                                 min=-MAX_SPAN, max=MAX_SPAN)
    steps: int = option(30, "Number of updates t = 1..steps.", min=1, max=MAX_STEPS)
    lr: float = option(0.3, "Learning rate: α for Adam, η for gd and momentum.", **LR_RANGE)
    beta1: float = option(**BETA1)
    beta2: float = option(**BETA2)
    eps: float = option(**EPS)  # the assignment's ε = 0; a step with v̂ = 0 is then taken as 0
    h: float = option(0.5, "Bump height; assumed a triangle 2h wide (slopes ±1), the seed's figure being "
                      "missing.", min=0, max=MAX_SPAN)
    L: float = option(**BUMP_L)

    @property
    def start(self) -> float:
        """Where the optimisation starts."""
        return self.x0 if self.x0 is not None else (0.0 if self.fn == "bump" else 2.0)


@dataclass(frozen=True, kw_only=True)
class EscapeConfig(Config):
    """The largest bump height h Adam still crosses (bisection, 2 decimals), and what GD does at h = 0.5.

    Question 1.1 and 1.2: Adam's largest crossable bump (α = 0.3, ε = 0) and GD at h = 0.5.
    The seed's figure is missing; assumed (see `nnlab adam --help`): slope −1 from O at x = 0
    to the minimum at x = L, a triangular bump h high and 2h wide (slopes ±1), and escape
    once x reaches the peak L + h.
    """

    lr: float = option(0.3, "Adam's α.", **LR_RANGE)
    beta1: float = option(**BETA1)
    beta2: float = option(**BETA2)
    eps: float = option(**EPS)
    L: float = option(**BUMP_L)
    gd_h: float = option(0.5, "Bump height for the gradient-descent run (a triangle 2h wide, as assumed "
                         "above).", min=0, max=MAX_SPAN)  # question 1.1's
    gd_lr: float = option(0.3, "η for the gradient-descent run.", **LR_RANGE)  # question 1.1's η
    # plenty: Adam's climb ends (or crosses) within ~30 steps at α = 0.3
    steps: int = option(200, "Steps each simulated run may take.", min=10, max=MAX_STEPS)
