"""`nnlab ops-check`: question 4's layers in numpy against torch, as a recorded run.

The inputs (the assignment's pixel_input.pt and filter.pt, or ones made from --seed) are saved
in the run under those names, with both sides' outputs, so a check can be repeated exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.ops_check.config import OpsCheckConfig
from nnlab.runs.recorder import Recorder
from nnlab.tools.ops_compare import as_filter, as_signal, load_tensor, make_inputs, run_checks


def preflight(config: OpsCheckConfig, store=None) -> Setup:
    """Load (or make) the input and the filter and check their shapes, before any run exists."""
    setup = base.preflight(config)
    gen_x, gen_f = make_inputs(config.seed, config.length, config.kernel)
    x = as_signal(load_tensor(Path(config.input), "--input")) if config.input else gen_x
    filt = as_filter(load_tensor(Path(config.filter), "--filter") if config.filter else gen_f, x.shape[1])
    if x.shape[-1] < 2:
        raise NnlabError(f"--input needs at least 2 samples along its length (MaxPool1d k=2); got {tuple(x.shape)}")
    if filt.shape[-1] > x.shape[-1]:
        raise NnlabError(f"--filter is longer ({filt.shape[-1]}) than the input ({x.shape[-1]})")
    setup.extras.update(x=x, filter=filt)
    return setup


def verdict(result: dict) -> str | None:
    """The one-line failure (exit 1) when numpy and torch disagree; None when all match."""
    if result["all_ok"]:
        return None
    return f"ops-check: {len(result['mismatches'])} op(s) differ from torch: {', '.join(result['mismatches'])}"


def run(config: OpsCheckConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Compare every op on the prepared tensors, save inputs and outputs, return the table."""
    setup = prepare(config, recorder, setup, preflight)
    x, filt = setup.extras["x"], setup.extras["filter"]
    recorder.update_run(input_source=config.input or f"generated from seed {config.seed}",
                        filter_source=config.filter or f"generated from seed {config.seed}")
    torch.save(x, recorder.artifact("pixel_input.pt"))
    torch.save(filt, recorder.artifact("filter.pt"))

    rows = run_checks(x, filt, config.seed, config.out_features)
    bad = [r.op for r in rows if not r.ok]
    recorder.table(f"numpy vs torch, input {tuple(x.shape)} {x.dtype}, filter {tuple(filt.shape)}",
                   ["op", "in shape", "out shape", "max |diff|", "ok"],
                   [[r.op, _shape(r.in_shape), _shape(r.out_shape), f"{r.max_abs_diff:.2e}",
                     "[green]✓[/]" if r.ok else "[red]✗ MISMATCH[/]"] for r in rows],
                   caption="numpy computes in float64 from the same values; "
                           "ok = max|diff| <= 1e-5 (1 + max|torch|)")
    recorder.save_csv("ops_check.csv", ["op", "in_shape", "out_shape", "max_abs_diff", "ok"],
                      [[r.op, _shape(r.in_shape), _shape(r.out_shape), r.max_abs_diff, r.ok] for r in rows])
    # the assignment's my_xxx_out / torch_xxx_out tensors, one file per side
    torch.save({r.op: torch.from_numpy(r.ours) for r in rows}, recorder.artifact("my_outputs.pt"))
    torch.save({r.op: torch.from_numpy(r.theirs) for r in rows}, recorder.artifact("torch_outputs.pt"))
    for i, r in enumerate(rows, 1):
        if math.isfinite(r.max_abs_diff):
            recorder.metric("max_abs_diff", r.max_abs_diff, step=i)
    worst = max(r.max_abs_diff for r in rows)
    recorder.summary({"mismatches": len(bad), "ops": len(rows), "all_ok": not bad,  # first: the key metric
                      "max_abs_diff": worst if math.isfinite(worst) else None})
    if not bad:
        recorder.info(f"[green]all {len(rows)} ops match torch[/] (largest difference {worst:.1e})")
    return {"all_ok": not bad, "mismatches": bad, "input_shape": list(x.shape), "filter_shape": list(filt.shape),
            "rows": [{"op": r.op, "in_shape": list(r.in_shape), "out_shape": list(r.out_shape),
                      # a shape mismatch has no finite difference: null, not JSON's non-standard Infinity
                      "max_abs_diff": r.max_abs_diff if math.isfinite(r.max_abs_diff) else None,
                      "ok": r.ok} for r in rows]}


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))
