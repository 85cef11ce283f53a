"""`nnlab report`: a hand-in report (Markdown, self-contained HTML, PDF) from saved runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import RUNS_AND_DATA, JsonOpt, RunsDirOpt


def report(
    runs: Annotated[Optional[list[str]], typer.Argument(
        help="Runs to report on (ids, prefixes, suffixes, paths, `latest`); or use --assignment.",
        show_default=False)] = None,
    assignment: Annotated[Optional[str], typer.Option(
        "--assignment", "-a", help="Report question by question on this assignment (see `nnlab assignment list`).",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write report.md, report.html (and report.pdf) in.")]
    = Path("report"),
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Write DIR/report.md and a self-contained DIR/report.html (report.pdf too with `nnlab[pdf]`).

    Per question (--assignment) or per run: the command to reproduce it, config, seed, device,
    versions and git commit, key metrics, every figure with a caption, the loss and accuracy
    curves, CSV tables as tables, and the deliverables composed as the seed asks. Nothing is
    retrained; questions without a run are listed with the command to run.
    """
    from rich.markup import escape

    from nnlab.report import build, output
    from nnlab.runs.store import RunStore

    if not runs and not assignment:
        fail("name runs to report on, or --assignment NAME (see `nnlab assignment list`)")
    if runs and assignment:
        fail("give runs or --assignment, not both")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a folder; pick a folder")
    store = RunStore(runs_dir)
    console = make_console(json_output)
    with user_errors():
        if assignment:
            built = build.for_assignment(assignment, store)
        else:
            built = build.for_runs([store.get(ref) for ref in runs])
    try:
        written = output.write(built, out)
    except OSError as exc:
        fail(f"cannot write the report in {out}: {exc.strerror or exc}; pass a writable --out")
    pdf = written["pdf"]
    if json_output:
        print_json({"html": str(written["html"]), "md": str(written["md"]),
                    "pdf": str(pdf) if isinstance(pdf, Path) else None, "quick": built.quick,
                    "questions": {q.id: q.state for q in built.questions}, "runs": [r.id for r in built.runs]})
        return
    if built.questions:
        done = sum(q.state == "answered" for q in built.questions)
        console.print(f"{done} of {len(built.questions)} questions answered by runs"
                      + (" [yellow](quick runs: smoke settings, not the answers)[/]" if built.quick else ""))
    console.print(f"[green]report written:[/] {escape(str(written['html']))} and {escape(str(written['md']))}")
    console.print(f"[green]report written:[/] {pdf}" if isinstance(pdf, Path) else f"[dim]{escape(pdf)}[/]")


def register(app: typer.Typer) -> None:
    """Join `nnlab report` to the root app."""
    app.command("report", rich_help_panel=RUNS_AND_DATA)(report)
