"""`nnlab ops-check`: MaxPool1d, AvgPool1d, conv1d, Sigmoid, BatchNorm1d, Linear in numpy vs torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import build, execute, fail
from nnlab.cli.options import TOOLS, JsonOpt, RunsDirOpt, SeedOpt
from nnlab.errors import EXIT_FAILED


def ops_check(
    input_file: Annotated[Optional[Path], typer.Option("--input", help="Input signal saved with torch.save: "
                                                       "(L,), (L, 1), (C, L) or (N, C, L), e.g. pixel_input.pt.",
                                                       show_default=False)] = None,
    filter_file: Annotated[Optional[Path], typer.Option("--filter", help="Conv filter saved with torch.save: "
                                                        "(K,), (K, 1) or (C_out, C_in, K), e.g. filter.pt.",
                                                        show_default=False)] = None,
    length: Annotated[int, typer.Option("--length", help="Length of a generated input (no --input).")] = 32,
    kernel: Annotated[int, typer.Option("--kernel", help="Length of a generated filter (no --filter).")] = 3,
    out_features: Annotated[int, typer.Option("--out-features", help="Output size of the Linear layer.")] = 8,
    seed: SeedOpt = 0,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Re-implement question 4's six layers in plain numpy and compare them with torch.

    Without --input/--filter the tensors are made from --seed; either way they are saved in the run
    as pixel_input.pt and filter.pt, with both sides' outputs. Exit code 1 on any mismatch.
    """
    from nnlab.experiments import ops_check as experiment

    config = build(experiment.OpsCheckConfig, input=str(input_file) if input_file else None,
                   filter=str(filter_file) if filter_file else None, seed=seed, length=length, kernel=kernel,
                   out_features=out_features)
    result = execute("ops-check", config, experiment.run, runs_dir=runs_dir, json_output=json_output)
    if not result["all_ok"]:
        fail(f"ops-check: {len(result['mismatches'])} op(s) differ from torch: {', '.join(result['mismatches'])}",
             EXIT_FAILED)


def register(app: typer.Typer) -> None:
    """Join `ops-check` to the app."""
    app.command("ops-check", rich_help_panel=TOOLS)(ops_check)
