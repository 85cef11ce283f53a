"""`nnlab runs`: list, show, diff, export, rm and tail saved runs, for people and for scripts.

One module per concern: listing (list, diff), show (show, tail), manage (export, rm, rerun);
`group` holds the Typer group and what they share.
"""

from __future__ import annotations

import typer

from nnlab.cli.options import RUNS_AND_DATA


def register(app: typer.Typer) -> None:
    """Join the runs group, with its commands, to the app."""
    from nnlab.cli.commands.runs import listing, manage, show  # noqa: F401  (they add their commands)
    from nnlab.cli.commands.runs.group import runs_app

    app.add_typer(runs_app, name="runs", rich_help_panel=RUNS_AND_DATA,
                  help="List, show, diff, export, rm and tail saved runs.")
