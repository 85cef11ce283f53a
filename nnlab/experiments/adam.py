"""`nnlab adam` and `nnlab adam escape`: the 1-D optimizer lab of question 1, as recorded runs.

The arithmetic lives in ``nnlab.tools.adam_sim``; this module tabulates, plots and records it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder
from nnlab.tools.adam_sim import (FUNCTIONS, OPTIMIZERS, Trace, crosses, describe, diverged, escape,
                                  make_function, simulate)

SERIES = ("g", "m", "v", "m_hat", "v_hat", "x")
LABELS = {"g": "g_t", "m": "m_t", "v": "v_t", "m_hat": "m̂_t", "v_hat": "v̂_t", "x": "x_t"}
SHOWN_ROWS = 40  # longer traces print head and tail; the CSV has every step


@dataclass(frozen=True)
class AdamConfig:
    """One 1-D optimisation; defaults are question 1's (α = 0.3, ε = 0, 30 steps, bump L=1 h=0.5)."""

    fn: str = "bump"
    optimizer: str = "adam"
    x0: Optional[float] = None  # None: 0 (the point O) for the bump, 2 for the others (question 1.4)
    steps: int = 30
    lr: float = 0.3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 0.0  # the assignment's ε = 0; a step with v̂ = 0 is then taken as 0
    h: float = 0.5
    L: float = 1.0

    def __post_init__(self):
        if self.fn not in FUNCTIONS:
            raise NnlabError(f"unknown --fn '{self.fn}'; choose one of {', '.join(FUNCTIONS)}")
        if self.optimizer not in OPTIMIZERS:
            raise NnlabError(f"unknown --optimizer '{self.optimizer}'; choose one of {', '.join(OPTIMIZERS)}")
        if not 1 <= self.steps <= 10_000:  # every step is a table row, 7 metrics and a CSV line
            raise NnlabError(f"--steps must be between 1 and 10000, got {self.steps}")
        _check_common(self.lr, self.beta1, self.beta2, self.eps, self.L)
        if not (math.isfinite(self.h) and self.h >= 0):
            raise NnlabError(f"--h must be 0 or more, got {self.h}")
        if self.x0 is not None and not math.isfinite(self.x0):
            raise NnlabError(f"--x0 must be a finite number, got {self.x0}")

    @property
    def start(self) -> float:
        return self.x0 if self.x0 is not None else (0.0 if self.fn == "bump" else 2.0)


def _check_common(lr: float, beta1: float, beta2: float, eps: float, L: float) -> None:
    if not (math.isfinite(lr) and lr > 0):
        raise NnlabError(f"--lr must be positive, got {lr}")
    for name, b in (("--beta1", beta1), ("--beta2", beta2)):
        if not 0 <= b < 1:
            raise NnlabError(f"{name} must be in [0, 1), got {b}")
    if not (math.isfinite(eps) and eps >= 0):
        raise NnlabError(f"--eps must be 0 or more, got {eps}")
    if not (math.isfinite(L) and L > 0):
        raise NnlabError(f"--L must be positive, got {L}")


# ---- figures ----------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: runs happen on servers
    import matplotlib.pyplot as plt

    return plt


def _save_trace_png(path, trace: Trace, fn, title: str) -> None:
    """Left: the loss with the visited points; right: the six quantities against t in one plot."""
    plt = _pyplot()
    fig, (ax_f, ax_t) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1, 1.4]})
    xs = [x for x in [trace.x0] + trace.x if math.isfinite(x)]
    lo, hi = min(xs), max(xs)
    pad = max(0.5, 0.15 * (hi - lo))
    grid = [lo - pad + i * (hi - lo + 2 * pad) / 600 for i in range(601)]
    ax_f.plot(grid, [fn.f(x) for x in grid], color="0.3", lw=1.2, label=f"f(x) = {fn.formula}")
    ax_f.scatter(xs, [fn.f(x) for x in xs], c=range(len(xs)), cmap="viridis", s=18, zorder=3)
    ax_f.plot([xs[0]], [fn.f(xs[0])], "k^", ms=8, label="start")
    ax_f.set_xlabel("x")
    ax_f.set_ylabel("loss")
    ax_f.legend(fontsize=7, loc="best")
    ax_f.set_title("loss and visited points (colour = t)", fontsize=9)
    for key in SERIES:
        t, ys = _finite(getattr(trace, key))
        if ys:
            ax_t.plot(t, ys, marker="o" if len(t) <= 40 else None, ms=2.5, label=LABELS[key])
    ax_t.axhline(0, color="0.7", lw=0.8)
    ax_t.set_xlabel("t")
    ax_t.legend(fontsize=8, ncol=3)
    ax_t.grid(alpha=0.3)
    ax_t.set_title("g, m, v, m̂, v̂ and x against t", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _finite(ys: list[float]) -> tuple[list[int], list[float]]:
    """(t, y) pairs with y finite: plots skip what an optimizer lacks or a divergence produced."""
    pairs = [(t, y) for t, y in enumerate(ys, 1) if math.isfinite(y)]
    return [t for t, _ in pairs], [y for _, y in pairs]


def _table_rows(trace: Trace) -> list[list]:
    rows = [[r["t"]] + [r[k] for k in SERIES] for r in trace.rows()]
    if len(rows) > SHOWN_ROWS:
        half = SHOWN_ROWS // 2
        rows = rows[:half] + [["…"] + [""] * len(SERIES)] + rows[-half:]
    return [[c if not (isinstance(c, float) and math.isnan(c)) else "" for c in row] for row in rows]


# ---- nnlab adam -------------------------------------------------------------------------------

def run(config: AdamConfig, recorder: Recorder) -> dict:
    """Simulate, then show the per-step table and plot and save trace.csv and trace.png."""
    fn = make_function(config.fn, config.h, config.L)
    trace = simulate(fn, config.optimizer, config.start, config.steps, config.lr, config.beta1,
                     config.beta2, config.eps)
    # NaN marks what an optimizer lacks (gd has no m or v) and inf a divergence: JSON null,
    # an empty CSV cell, no metric record
    rows = [{k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in r.items()}
            for r in trace.rows()]
    for r in rows:
        for key in SERIES + ("loss",):
            if r[key] is not None:
                recorder.metric(key, r[key], step=r["t"])
    params = ", ".join(f"{k}={v:g}" for k, v in trace.params.items())
    bump = f"L={config.L:g}, h={config.h:g}" if config.fn == "bump" else ""
    title = f"{config.optimizer} on {config.fn}, x0={config.start:g}, {params}" + (f", {bump}" if bump else "")
    recorder.table(f"{config.optimizer} on {config.fn}, x0 = {config.start:g}", ["t"] + [LABELS[k] for k in SERIES],
                   _table_rows(trace), caption=params + (f", {bump}" if bump else "")
                   + ("; every step is in trace.csv" if len(trace.x) > SHOWN_ROWS else ""))
    recorder.plot({LABELS[k]: _finite(getattr(trace, k)) for k in SERIES
                   if any(math.isfinite(y) for y in getattr(trace, k))}, title=title, xlabel="t")
    recorder.save_csv("trace.csv", ["t", *SERIES, "loss"],
                      [["" if r[k] is None else r[k] for k in ("t", *SERIES, "loss")] for r in rows])
    _save_trace_png(recorder.artifact("trace.png"), trace, fn, title)
    result = {"fn": config.fn, "formula": fn.formula, "optimizer": config.optimizer, "x0": config.start,
              "params": trace.params, "final_x": rows[-1]["x"], "final_loss": rows[-1]["loss"],
              "steps": rows}
    if diverged(trace):
        result["diverged_at"] = len(trace.x)
        recorder.warn(f"x diverged (|x| > 1e12) at step {len(trace.x)} of {config.steps}; the run stops there "
                      f"(try a smaller --lr than {config.lr:g})")
    if config.fn == "bump":
        result["crossed"] = crosses(trace, config.L, config.h)
        result["behaviour"] = describe(trace, config.L, config.h)
        recorder.info(f"{config.optimizer} {result['behaviour']}")
    recorder.info(f"final x = {trace.x[-1]:.6g}, loss = {trace.loss[-1]:.6g}")
    recorder.summary({k: result[k] for k in ("final_loss", "final_x", "crossed", "diverged_at") if k in result})
    return result


# ---- nnlab adam escape ------------------------------------------------------------------------

@dataclass(frozen=True)
class EscapeConfig:
    """Question 1.1 and 1.2: Adam's largest crossable bump (α = 0.3, ε = 0) and GD at h = 0.5."""

    L: float = 1.0
    lr: float = 0.3  # α for Adam
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 0.0
    gd_h: float = 0.5  # question 1.1's bump for plain gradient descent
    gd_lr: float = 0.3  # question 1.1's η
    steps: int = 200  # plenty: Adam's climb ends (or crosses) within ~30 steps at α = 0.3

    def __post_init__(self):
        _check_common(self.lr, self.beta1, self.beta2, self.eps, self.L)
        _check_common(self.gd_lr, 0.0, 0.0, 0.0, 1.0)
        if not (math.isfinite(self.gd_h) and self.gd_h >= 0):
            raise NnlabError(f"--gd-h must be 0 or more, got {self.gd_h}")
        if not 10 <= self.steps <= 10_000:
            raise NnlabError(f"--steps must be between 10 and 10000, got {self.steps}")


def run_escape(config: EscapeConfig, recorder: Recorder) -> dict:
    """Bisection for h*, then the runs either side of it and GD at h = 0.5, plotted together."""
    try:
        res = escape(config.L, config.lr, config.beta1, config.beta2, config.eps, 0.0, config.steps)
    except ValueError as exc:
        raise NnlabError(f"adam escape: {exc}") from None
    for i, (h, ok) in enumerate(res.evaluations, 1):
        recorder.metric("h_tried", h, step=i)
    recorder.save_csv("bisection.csv", ["iteration", "h", "crossed"],
                      [[i, h, ok] for i, (h, ok) in enumerate(res.evaluations, 1)])
    tries = list(enumerate(res.evaluations, 1))
    shown = tries[:6] + tries[-4:] if len(tries) > 10 else tries
    recorder.table("bisection on the bump height h",
                   ["try", "h", "Adam crosses?"], [[i, f"{h:.10f}", "yes" if ok else "no"] for i, (h, ok) in shown],
                   caption=f"Adam α={config.lr:g}, β1={config.beta1:g}, β2={config.beta2:g}, ε={config.eps:g}, "
                           f"L={config.L:g}; {len(res.evaluations)} tries in all (bisection.csv)")

    above = round(res.h_largest_2dp + 0.01, 2)
    runs = {
        f"Adam, h={res.h_largest_2dp:.2f}": ("adam", res.h_largest_2dp, config.lr),
        f"Adam, h={above:.2f}": ("adam", above, config.lr),
        f"GD, h={config.gd_h:g}, η={config.gd_lr:g}": ("gd", config.gd_h, config.gd_lr),
    }
    traces, behaviour = {}, {}
    for label, (opt, h, lr) in runs.items():
        tr = simulate(make_function("bump", h, config.L), opt, 0.0, 40, lr, config.beta1, config.beta2, config.eps)
        traces[label] = (h, tr)
        behaviour[label] = describe(tr, config.L, h)
    shown_t = 20  # past t = 20 the crossing run just walks away downhill and squashes the rest
    recorder.plot({label: (list(range(shown_t + 1)), [0.0] + tr.x[:shown_t]) for label, (_, tr) in traces.items()},
                  title=f"x_t: Adam just below and above h*, and GD at h = {config.gd_h:g}", xlabel="t")
    _save_escape_png(recorder.artifact("escape.png"), traces, config)
    gd_label = list(runs)[2]
    recorder.info(f"[bold]Adam[/] (α={config.lr:g}, ε={config.eps:g}) crosses every bump up to "
                  f"h* = {res.h_boundary:.6f}: [bold]h = {res.h_rounded:.2f}[/] to 2 decimals "
                  f"(largest 2-decimal h that still crosses: {res.h_largest_2dp:.2f})")
    for label, text in behaviour.items():
        recorder.info(f"{label}: {text}")
    summary = {"h_rounded": res.h_rounded, "h_boundary": res.h_boundary, "h_largest_2dp": res.h_largest_2dp,
               "gd_crosses": crosses(traces[gd_label][1], config.L, config.gd_h)}
    recorder.summary(summary)
    return {**summary, "bisection_iterations": res.iterations, "gd_behaviour": behaviour[gd_label],
            "behaviour": behaviour,
            "gd_x": traces[gd_label][1].x}


def _save_escape_png(path, traces: dict, config: EscapeConfig) -> None:
    """The bump for each run, with its visited points, and x_t against t for all three."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(traces) + 1, figsize=(4.2 * (len(traces) + 1), 3.8))
    for ax, (label, (h, tr)) in zip(axes, traces.items()):
        fn = make_function("bump", h, config.L)
        grid = [-0.2 + i * (config.L + 2 * h + 0.7) / 400 for i in range(401)]
        ax.plot(grid, [fn.f(x) for x in grid], color="0.3", lw=1.2)
        xs = [x for x in [0.0] + tr.x if grid[0] <= x <= grid[-1]]  # a crossing run leaves the frame
        ax.scatter(xs, [fn.f(x) for x in xs], c=range(len(xs)), cmap="viridis", s=14, zorder=3)
        ax.set_title(f"{label}\n{'crosses' if crosses(tr, config.L, h) else 'trapped'}", fontsize=9)
        ax.set_xlabel("x")
        ax.set_xlim(grid[0], grid[-1])
    last = axes[-1]
    for label, (_, tr) in traces.items():
        last.plot(range(len(tr.x) + 1), [0.0] + tr.x, marker="o", ms=2, label=label)
    last.set_xlabel("t")
    last.set_ylabel("x_t")
    last.legend(fontsize=7)
    last.grid(alpha=0.3)
    fig.suptitle(f"bump f(x) = L − x (x < L), h − |x − L − h| (x ≥ L), L = {config.L:g}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
