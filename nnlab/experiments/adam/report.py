"""What the adam runs show and save: the per-step table and the trace and escape figures."""

from __future__ import annotations

import math

from nnlab.experiments.adam.config import EscapeConfig
from nnlab.tools.adam_sim import Trace, crosses, make_function

SERIES = ("g", "m", "v", "m_hat", "v_hat", "x")
LABELS = {"g": "g_t", "m": "m_t", "v": "v_t", "m_hat": "m̂_t", "v_hat": "v̂_t", "x": "x_t"}
SHOWN_ROWS = 40  # longer traces print head and tail; the CSV has every step


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: runs happen on servers
    import matplotlib.pyplot as plt

    return plt


def save_trace_png(path, trace: Trace, fn, title: str) -> None:
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
        t, ys = finite(getattr(trace, key))
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


def finite(ys: list[float]) -> tuple[list[int], list[float]]:
    """(t, y) pairs with y finite: plots skip what an optimizer lacks or a divergence produced."""
    pairs = [(t, y) for t, y in enumerate(ys, 1) if math.isfinite(y)]
    return [t for t, _ in pairs], [y for _, y in pairs]


def table_rows(trace: Trace) -> list[list]:
    rows = [[r["t"]] + [r[k] for k in SERIES] for r in trace.rows()]
    if len(rows) > SHOWN_ROWS:
        half = SHOWN_ROWS // 2
        rows = rows[:half] + [["…"] + [""] * len(SERIES)] + rows[-half:]
    return [[c if not (isinstance(c, float) and math.isnan(c)) else "" for c in row] for row in rows]




def save_escape_png(path, traces: dict, config: EscapeConfig) -> None:
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
