"""Options several commands share, defined once as reusable Annotated aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

COMMON = "Common options"

DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or mps (auto: CUDA, then MPS, then CPU).",
                                        rich_help_panel=COMMON)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for initialisation and data order; same seed, same numbers.",
                                      rich_help_panel=COMMON)]
RunsDirOpt = Annotated[Optional[Path], typer.Option("--runs-dir", help="Where runs are saved \\[default: $NNLAB_RUNS, else ./runs].",
                                                    rich_help_panel=COMMON, show_default=False)]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="Dataset folder \\[default: $NNLAB_DATA, else ~/.cache/nnlab/data].",
                                                    rich_help_panel=COMMON, show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout; progress goes to stderr.",
                                       rich_help_panel=COMMON)]
FallbackOpt = Annotated[bool, typer.Option("--fallback/--no-fallback",
                                           help="If MNIST cannot be had, warn and use the embedded digits dataset.",
                                           rich_help_panel=COMMON)]

EXPERIMENTS = "Experiments"
TOOLS = "Tools"
RUNS_AND_DATA = "Runs and data"
