"""The Typer application: a root callback with --version, and every command module joined in.

Experiments come from the registry (nnlab.experiments.REGISTRY), their commands generated
from their configs by nnlab.cli.generate; other commands (runs, data, browse, tools) live in
nnlab.cli.commands, each exposing `register(app)`. Nothing imports torch until a command
runs, so `nnlab --help` and completion stay instant.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated, Optional

import typer

from typer.core import TyperGroup

from nnlab import __version__
from nnlab.cli import process
from nnlab.cli.options import EXPERIMENTS, RUNS_AND_DATA, TOOLS

PANEL_ORDER = (EXPERIMENTS, TOOLS, RUNS_AND_DATA)


class _PanelOrderedGroup(TyperGroup):
    """Lists commands panel by panel (Experiments, Tools, Runs and data), by name within each."""

    def list_commands(self, ctx):
        def rank(name: str) -> tuple[int, str]:
            panel = getattr(self.commands[name], "rich_help_panel", None)
            return (PANEL_ORDER.index(panel) if panel in PANEL_ORDER else len(PANEL_ORDER), name)

        return sorted(self.commands, key=rank)


app = typer.Typer(
    cls=_PanelOrderedGroup,
    name="nnlab",
    help="A terminal lab for classic deep-learning experiments. Every run is saved; browse them with `nnlab browse`.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nnlab {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
) -> None:
    """A terminal lab for classic deep-learning experiments."""


def _register_commands() -> None:
    from nnlab.cli import commands
    from nnlab.cli.generate import register_experiments

    register_experiments(app)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    """Console entry point: usage errors become one line and exit code 2; signals and pipes as in
    nnlab.cli.process."""
    process.install()
    try:
        _run_app()
    finally:
        process.leaving()


def _run_app() -> None:
    """The app, its usage errors as one line and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt) as exc:  # before a run existed: nothing to keep
        typer.echo("aborted", err=True)
        sys.exit(process.exit_code_of(exc.__cause__ or exc))
    except Exception as exc:
        # click's usage errors (typer may vendor its own click, so match by shape, not class)
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if exc.exit_code == 0 or type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # a group called bare: its help, as typer would show it
            sys.exit(0 if exc.exit_code == 0 else 2)
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx else "nnlab"
        typer.echo(f"error: {exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
