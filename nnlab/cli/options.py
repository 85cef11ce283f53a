"""Options of commands that are not generated from a config, defined once as reusable Annotated aliases.

Experiment options come from their config fields (nnlab.experiments.base); `--data-dir` here
reuses that declaration's help, and `--runs-dir` and `--json` serve every command.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.experiments.base import COMMON, CommonConfig, spec_of

_DATA_DIR = next(spec_of(f) for f in fields(CommonConfig) if f.name == "data_dir")

RunsDirOpt = Annotated[Optional[Path], typer.Option("--runs-dir", help="Where runs are saved \\[default: $NNLAB_RUNS, else ./runs].",
                                                    rich_help_panel=COMMON, show_default=False)]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help=_DATA_DIR.help, rich_help_panel=COMMON,
                                                    show_default=False)]
DeviceOverrideOpt = Annotated[Optional[str], typer.Option(
    "--device", help="auto, cpu, cuda or mps, instead of the device each command would take (a rerun: the recorded "
    "one; identical numbers are promised only on the same device).", rich_help_panel=COMMON, show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout; progress goes to stderr.",
                                       rich_help_panel=COMMON)]
NoImagesOpt = Annotated[bool, typer.Option("--no-images", help="Draw no images in the terminal: the same as "
                                           "--images none (a line naming each PNG).", rich_help_panel=COMMON,
                                           show_default=False)]

EXPERIMENTS = "Experiments"
TOOLS = "Tools"
RUNS_AND_DATA = "Runs and data"
