"""What `nnlab init` shows: Var[z^l] measured beside theory, the ReLU identity, the plots, the JSON."""

from __future__ import annotations

import math
from pathlib import Path

from nnlab.core.figures import _pyplot
from nnlab.experiments.initialization.propagate import SchemeResult
from nnlab.runs.recorder import Recorder

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def _num(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "overflow"


def _ratio(measured: float, reference: float) -> float:
    return measured / reference if reference and math.isfinite(measured) and math.isfinite(reference) else math.nan


def _rows_to_show(depth: int) -> list[int]:
    """Layer indices (0-based) for the tables: all of a short net, else the first 3, every 5th, the last."""
    if depth <= 24:
        return list(range(depth))
    return sorted({0, 1, 2, depth - 1} | set(range(4, depth, 5)))


def report_variances(recorder: Recorder, results: list[SchemeResult], width: int) -> None:
    """Var[z^l] measured (theory) per layer, one column per scheme."""
    depth = len(results[0].var_z)
    spread = math.sqrt(5 * depth / width)
    rows = [[l + 1] + [f"{_num(r.var_z[l])} ({_ratio(r.var_z[l], r.theory_var_z[l]):.2f})" for r in results]
            for l in _rows_to_show(depth)]
    recorder.table("Var\\[z^l] measured (÷ theory)", ["l"] + [r.label for r in results], rows,
                   caption=f"theory: Var\\[z^l] = n Var\\[w] E\\[x_l²] + Var\\[b] with n = {width}, "
                           "E\\[x_1²] = 1 for the Gaussian input. At finite width the ratio wanders with depth: "
                           f"log of it spreads by about √(5l/n) for one input (Hanin & Nica 2019; ±{spread:.2f} at "
                           f"l = {depth}), less over a batch. Every value: variances.csv, --json")


def report_identity(recorder: Recorder, results: list[SchemeResult], activation: str, width: int) -> None:
    """E[x_l²] against Var[z^(l-1)]/2 (problem 1.3), as their ratio."""
    depth = len(results[0].var_z)
    if depth < 2:
        return
    rows = [[l + 1] + [f"{_ratio(r.second_moment_x[l], r.half_var_z_prev()[l - 1]):.4f}" for r in results]
            for l in _rows_to_show(depth) if l >= 1]
    if activation == "relu":
        caption = (f"1 when Var\\[z^(l-1)] = 2 E\\[x_l²] holds; one draw of {width} units per layer leaves "
                   f"about ±{math.sqrt(3 / width):.3f} (√(3/n)): z's sign is symmetric over units, not exactly")
    else:
        caption = ("not 1: the identity is for ReLU, which zeroes half of a symmetric z; tanh keeps both signs, "
                   "so E\\[tanh(z)²] ≈ Var\\[z] for small z (ratio 2) and the ratio falls as tanh saturates")
    recorder.table("E\\[x_l²] / (Var\\[z^(l-1)]/2)", ["l"] + [r.label for r in results], rows, caption=caption)


def series(results: list[SchemeResult], with_theory: bool) -> dict[str, tuple[list[int], list[float]]]:
    """Named (layer, Var[z^l]) series, measured and (if asked) theory."""
    out = {}
    for r in results:
        layers = list(range(1, len(r.var_z) + 1))
        out[r.label] = (layers, r.var_z)
        if with_theory:
            out[f"{r.label} theory"] = (layers, r.theory_var_z)
    return out


def save_figure(path: Path, results: list[SchemeResult], activation: str, width: int) -> Path:
    """Two panels: Var[z^l] by depth (log-y, measured solid, theory dashed) and the identity ratio."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for r, color in zip(results, COLORS):
        layers = list(range(1, len(r.var_z) + 1))
        name = r.label + (" (= LeCun: n_in = n_out)" if r.scheme == "xavier" else "")
        left.plot(layers, r.var_z, "o-", color=color, markersize=3, label=f"{name} measured")
        left.plot(layers, r.theory_var_z, "--", color=color, alpha=0.8, label=f"{r.label} theory")
        ratios = [_ratio(m, h) for m, h in zip(r.second_moment_x[1:], r.half_var_z_prev())]
        right.plot(layers[1:], ratios, "o-", color=color, markersize=3, label=name)
    left.set_yscale("log")
    left.set_title(rf"$\mathrm{{Var}}[z^l]$ through {activation} layers of width {width}")
    left.set_ylabel(r"$\mathrm{Var}[z^l]$")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=7, ncol=2)
    right.axhline(1.0, color="black", linewidth=0.8)
    right.set_title(r"$E[x_l^2] \,/\, (\mathrm{Var}[z^{l-1}]/2)$" + ("  (1 for ReLU)" if activation == "relu" else
                                                                     "  (the identity is for ReLU)"))
    right.grid(alpha=0.3)
    right.legend(fontsize=7, title="Gaussian schemes share one weight draw, scaled" if activation == "relu" else None,
                 title_fontsize=7)
    for ax in (left, right):
        ax.set_xlabel("layer l")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no Infinity


def to_json(results: list[SchemeResult]) -> dict:
    """Per scheme: its variances and, per layer, the measured and predicted moments."""
    return {r.scheme: {"label": r.label, "weight_variance": r.weight_variance, "bias_variance": r.bias_variance,
                       "layers": [{"l": l + 1, "var_z": _finite(r.var_z[l]), "theory_var_z": _finite(r.theory_var_z[l]),
                                   "mean_z": _finite(r.mean_z[l]), "second_moment_x": _finite(r.second_moment_x[l]),
                                   "half_var_z_prev": _finite(r.var_z[l - 1] / 2) if l else None}
                                  for l in range(len(r.var_z))]}
            for r in results}


def csv_rows(results: list[SchemeResult]) -> list[list]:
    """One row per scheme and layer."""
    return [[r.scheme, l + 1, r.var_z[l], r.theory_var_z[l], r.mean_z[l], r.second_moment_x[l],
             r.var_z[l - 1] / 2 if l else ""] for r in results for l in range(len(r.var_z))]
