"""`nnlab adam` and `nnlab adam escape`: the 1-D optimizer lab of question 1, as recorded runs.

The arithmetic lives in ``nnlab.tools.adam_sim``; this module tabulates, plots and records it.
"""

from __future__ import annotations

import math
from nnlab.errors import NnlabError
from nnlab.experiments.adam.config import AdamConfig, EscapeConfig
from nnlab.experiments.adam.report import (LABELS, SERIES, SHOWN_ROWS, finite, save_escape_png, save_trace_png,
                                           table_rows)
from nnlab.experiments.base import Setup
from nnlab.runs.recorder import Recorder
from nnlab.tools.adam_sim import crosses, describe, diverged, escape, make_function, simulate


# ---- nnlab adam -------------------------------------------------------------------------------

def run(config: AdamConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
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
                   table_rows(trace), caption=params + (f", {bump}" if bump else "")
                   + ("; every step is in trace.csv" if len(trace.x) > SHOWN_ROWS else ""))
    recorder.plot({LABELS[k]: finite(getattr(trace, k)) for k in SERIES
                   if any(math.isfinite(y) for y in getattr(trace, k))}, title=title, xlabel="t")
    recorder.save_csv("trace.csv", ["t", *SERIES, "loss"],
                      [["" if r[k] is None else r[k] for k in ("t", *SERIES, "loss")] for r in rows])
    save_trace_png(recorder.artifact("trace.png"), trace, fn, title)
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

def run_escape(config: EscapeConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
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
    save_escape_png(recorder.artifact("escape.png"), traces, config)
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


