"""`nnlab init`: Var[z^l] layer by layer under He, Xavier, LeCun, PyTorch's default and --std."""

from __future__ import annotations

import math
import time

from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.initialization.config import InitConfig
from nnlab.experiments.initialization.propagate import gaussian_inputs, propagate
from nnlab.experiments.initialization.report import (csv_rows, report_identity, report_variances, save_figure,
                                                     series, to_json)
from nnlab.runs.recorder import Recorder

SCHEMES = ("he", "xavier", "lecun", "default")


def run(config: InitConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Propagate one Gaussian batch under each scheme; tables, plots, CSV and JSON of every layer."""
    prepare(config, recorder, setup)
    schemes = SCHEMES + (("std",) if config.std is not None else ())
    recorder.info(f"{config.batch} inputs x ~ N(0, I) through {config.depth} layers Linear({config.width}, "
                  f"{config.width}) + {config.activation}; biases 0 (PyTorch's default draws them U(±1/√n))")
    inputs = gaussian_inputs(config.batch, config.width, config.seed)
    start = time.perf_counter()
    results = []
    with recorder.progress(len(schemes), "schemes") as bar:
        for scheme in schemes:
            result = propagate(inputs, scheme, config.activation, config.depth, std=config.std, seed=config.seed)
            results.append(result)
            for l, value in enumerate(result.var_z, 1):
                if math.isfinite(value):
                    recorder.metric(f"var_z_{scheme}", value, step=l)
            bar.advance(1, scheme)
    seconds = time.perf_counter() - start

    report_variances(recorder, results, config.width)
    report_identity(recorder, results, config.activation, config.width)
    recorder.plot(series(results, with_theory=False), title="Var[z^l] by layer (measured; theory in the table)",
                  xlabel="layer l", ylabel="Var[z^l]", logy=True)
    figure = save_figure(recorder.artifact("variance_by_depth.png"), results, config.activation, config.width)
    recorder.info(f"figure (measured solid, theory dashed): {figure}")
    recorder.save_csv("variances.csv", ["scheme", "l", "var_z", "theory_var_z", "mean_z", "second_moment_x",
                                        "half_var_z_prev"], csv_rows(results))
    for r in results:
        growth = r.var_z[-1] / r.var_z[0] if r.var_z[0] else math.nan
        recorder.info(f"{r.label}: Var\\[w] = {r.weight_variance:.3g}; "
                      f"Var\\[z^{config.depth}] / Var\\[z^1] = {growth:.3g}")
    recorder.summary({f"{r.scheme}_var_z_last": r.var_z[-1] if math.isfinite(r.var_z[-1]) else None
                      for r in results} | {"seconds": seconds})
    return {"activation": config.activation, "depth": config.depth, "width": config.width, "batch": config.batch,
            "seconds": seconds, "schemes": to_json(results)}
