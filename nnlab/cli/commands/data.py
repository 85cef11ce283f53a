"""`nnlab data status` and `nnlab data import PATH`: what the data dir holds, and filling it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import RUNS_AND_DATA, DataDirOpt, JsonOpt
from nnlab.errors import EXIT_INTERRUPTED

data_app = typer.Typer(no_args_is_help=True, help="Show and fill the dataset folder.")


def _size(n: int | None) -> str:
    if n is None:
        return ""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


@data_app.command("status")
def status(data_dir: DataDirOpt = None, json_output: JsonOpt = False) -> None:
    """One row per canonical file: present or missing, size, checksum."""
    from rich.markup import escape
    from rich.table import Table

    from nnlab.core.data import default_data_dir, status as file_status

    folder = default_data_dir(data_dir)
    with user_errors():
        rows = file_status(folder)
    if json_output:
        print_json({"data_dir": str(folder), "files": [
            {"dataset": r.dataset, "file": r.filename, "path": str(r.path), "present": r.present,
             "size": r.size, "checksum_ok": r.checksum_ok} for r in rows]})
        return
    table = Table(title=f"datasets in {escape(str(folder))}", title_justify="left")
    for col in ("dataset", "file", "status", "size", "checksum"):
        table.add_column(col)
    for r in rows:
        check = {True: "[green]ok[/]", False: "[red]mismatch[/]", None: "—"}[r.checksum_ok]
        if r.present and r.checksum_ok is None:
            check = "extracted (not checked)"
        table.add_row(r.dataset, escape(r.filename), "[green]present[/]" if r.present else "[yellow]missing[/]",
                      _size(r.size), check)
    console = make_console()
    console.print(table)
    if not all(r.present for r in rows):
        console.print("Missing files: download them where you have a network, then "
                      "`nnlab data import PATH`. `--dataset digits` needs no files.")


@data_app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A folder holding the downloaded archives (searched recursively), or one archive.")],
    data_dir: DataDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Copy the canonical archives from SOURCE into the data dir, verifying each md5."""
    from nnlab.core.data import default_data_dir, import_archives

    folder = default_data_dir(data_dir)
    try:
        with user_errors():
            rows = import_archives(source.expanduser(), folder)
    except KeyboardInterrupt:  # every file is whole or absent: say so, exit as Ctrl-C does
        fail(f"interrupted; nothing half-copied was left in {folder}", EXIT_INTERRUPTED)
    if json_output:
        print_json({"data_dir": str(folder), "files": [
            {"dataset": d, "file": f, "outcome": o} for d, f, o in rows]})
    else:
        from rich.markup import escape  # names and paths come from the user's files

        console = make_console()
        for dataset, filename, outcome in rows:
            colour = "red" if outcome.startswith("refused") else "green"
            console.print(f"{escape(dataset):<14} {escape(filename):<28} [{colour}]{escape(outcome)}[/]",
                          soft_wrap=True)
        console.print(f"data dir: {escape(str(folder))}")
    if any(o.startswith("refused") for *_, o in rows):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Join the data group to the app."""
    app.add_typer(data_app, name="data", rich_help_panel=RUNS_AND_DATA)
