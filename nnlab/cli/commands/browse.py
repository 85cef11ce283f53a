"""`nnlab browse`: the run browser in the terminal (Textual), for local runs or over SSH."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import fail
from nnlab.cli.options import RUNS_AND_DATA, RunsDirOpt


def browse(
    runs_root: Annotated[Optional[Path], typer.Argument(help="Runs folder \\[default: --runs-dir, $NNLAB_RUNS, else ./runs].",
                                                       show_default=False, metavar="RUNS_DIR")] = None,
    theme: Annotated[Optional[str], typer.Option("--theme", help="light or dark \\[default: dark; press t to switch].",
                                                 show_default=False)] = None,
    images: Annotated[str, typer.Option("--images", help="How figures are drawn: auto, kitty, sixel, halfblock or none "
                                        "(auto asks the terminal; half-blocks inside tmux without passthrough).")] = "auto",
    runs_dir: RunsDirOpt = None,
) -> None:
    """Browse runs: table with filter and sort, curves and their values, images, logs, trials, compare. Keyboard first; ? for help."""
    from nnlab.runs.store import default_runs_dir
    from nnlab.view.graphics import MODES, Graphics, detect

    root = default_runs_dir(runs_root or runs_dir)
    if not root.is_dir():
        fail(f"no runs folder at {root}; run an experiment first, or give the folder: `nnlab browse PATH`")
    if theme is not None and theme not in ("light", "dark"):
        fail(f"unknown theme '{theme}'; use light or dark")
    if images not in MODES:
        fail(f"unknown --images '{images}'; use one of {', '.join(MODES)}")
    from nnlab.tui.app import make_app

    # asked before the app starts: textual-image can only query the terminal then
    graphics = detect(images)
    if graphics.mode == "none" and images == "auto":  # stdout is not a terminal: draw as on one anyway
        graphics = Graphics("halfblock", "stdout is not a terminal")
    make_app(root, theme=theme, graphics=graphics).run()


def register(app: typer.Typer) -> None:
    """Join `browse` to the app."""
    app.command("browse", rich_help_panel=RUNS_AND_DATA)(browse)
