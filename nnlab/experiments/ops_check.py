"""`nnlab ops-check`: question 4's layers in numpy against torch, as a recorded run.

The inputs (the assignment's pixel_input.pt and filter.pt, or ones made from --seed) are saved
in the run under those names, with both sides' outputs, so a check can be repeated exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder


@dataclass(frozen=True)
class OpsCheckConfig:
    """Where the input signal and the conv filter come from; missing files are made from the seed."""

    input: Optional[str] = None  # a .pt tensor: (L,), (L, 1), (C, L) or (N, C, L)
    filter: Optional[str] = None  # a .pt tensor: (K,), (K, 1) or (C_out, C_in, K)
    seed: int = 0
    length: int = 32  # generated input length: the assignment's 32x1 pixels
    kernel: int = 3  # generated filter length: the assignment's 3x1 filter
    out_features: int = 8  # Linear(L, out_features); the assignment leaves it open

    def __post_init__(self):
        if self.length < 2:
            raise NnlabError(f"--length must be at least 2, got {self.length}")
        if not 1 <= self.kernel <= self.length:
            raise NnlabError(f"--kernel must be between 1 and --length ({self.length}), got {self.kernel}")
        for flag, path in (("--input", self.input), ("--filter", self.filter)):
            if path is not None and not Path(path).is_file():  # before a run is created for nothing
                raise NnlabError(f"{flag}: no such file {path}")
        if self.out_features < 1:
            raise NnlabError(f"--out-features must be at least 1, got {self.out_features}")


def run(config: OpsCheckConfig, recorder: Recorder) -> dict:
    """Load or make the tensors, compare every op, save inputs and outputs, return the table."""
    import torch

    from nnlab.tools.ops_compare import as_filter, as_signal, load_tensor, make_inputs, run_checks

    gen_x, gen_f = make_inputs(config.seed, config.length, config.kernel)
    x = as_signal(load_tensor(Path(config.input), "--input")) if config.input else gen_x
    filt = as_filter(load_tensor(Path(config.filter), "--filter") if config.filter else gen_f, x.shape[1])
    if x.shape[-1] < 2:
        raise NnlabError(f"--input needs at least 2 samples along its length (MaxPool1d k=2); got {tuple(x.shape)}")
    if filt.shape[-1] > x.shape[-1]:
        raise NnlabError(f"--filter is longer ({filt.shape[-1]}) than the input ({x.shape[-1]})")
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
