"""`nnlab kmeans eta`: the balanced learning rate η* for each batch size, with its curves."""

from __future__ import annotations

from nnlab.core.figures import save_line_plot
from nnlab.experiments.base import Setup
from nnlab.experiments.kmeans.config import EtaConfig
from nnlab.runs.recorder import Recorder
from nnlab.tools.eta import balanced_eta, curves


def run(config: EtaConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Tabulate η* per batch size and plot bias² and variance against η for one batch size."""
    sizes = sorted(set(config.batch_sizes) | {config.batch_size})
    table = [(b, balanced_eta(b)) for b in sizes]
    recorder.table("balanced learning rate η* (bias² = variance) per batch size",
                   ["batch size b", "η*", "α* = η*/5"],
                   [[b, round(eta, 4), round(eta / 5, 4)] for b, eta in table],
                   caption="η = 5 is Lloyd's full-batch average; smaller batches want smaller η")
    recorder.save_csv("eta_star.csv", ["batch_size", "eta_star"], table)

    eta, bias2, var = curves(config.batch_size)
    star = balanced_eta(config.batch_size)
    crossing = float(((1 - star / 5) / (star / 5)) ** 2)
    series = {"bias² ((1−α)/α)²": (eta, bias2), f"variance (1/{config.batch_size})·α²/(1−(1−α)²)": (eta, var)}
    save_line_plot(recorder.artifact("eta_curves.png"), series, title=f"bias² and variance vs η (b = {config.batch_size})",
                   xlabel="η", ylabel="error / a²", logy=True, marks={f"η* = {star:.3f}": (star, crossing)})
    recorder.plot(series, title=f"bias² and variance vs η, b = {config.batch_size}: they cross at η* = {star:.3f}",
                  xlabel="η", logy=True)
    recorder.summary({"batch_size": config.batch_size, "eta_star": star})
    return {"batch_size": config.batch_size, "eta_star": star,
            "table": [{"batch_size": b, "eta_star": e} for b, e in table]}
