"""`nnlab assignment`: the five course assignments, which questions the runs answer, and running them all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import RUNS_AND_DATA, JsonOpt, RunsDirOpt

assignment_app = typer.Typer(no_args_is_help=True, rich_markup_mode="rich",
                             help="The course assignments: each question, the command that answers it, and "
                                  "whether a run does (`list`); run them all (`run`).")

_MARKS = {"answered": ("✓", "green"), "partial": ("✗", "yellow"), "open": ("✗", "red"),
          "missing": ("✗", "red"), "written": ("—", "dim"), "tool": ("⚙", "cyan")}


def _describe_all(names: list[str], runs_dir: Optional[Path]) -> list[dict]:
    from nnlab import assignments
    from nnlab.assignments import answers
    from nnlab.runs.store import RunStore

    runs = RunStore(runs_dir).runs()
    with user_errors():
        chosen = [assignments.load(n) for n in names] if names else assignments.load_all()
        return [answers.describe(a, answers.find(a, runs)) for a in chosen]


@assignment_app.command("list")
def list_assignments(
    names: Annotated[Optional[list[str]], typer.Argument(help="Only these assignments (seed names).",
                                                         show_default=False)] = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Every assignment's questions: summary, the command that answers it, ✓ when a completed run does."""
    from rich.markup import escape
    from rich.table import Table

    described = _describe_all(names or [], runs_dir)
    if json_output:
        print_json(described)
        return
    console = make_console()
    for item in described:
        table = Table(title=f"{escape(item['name'])}: {escape(item['title'])}", title_justify="left",
                      show_lines=False, expand=True)
        table.add_column("", width=1, no_wrap=True)
        table.add_column("question", no_wrap=True)
        table.add_column("summary", ratio=3)
        table.add_column("command", ratio=2)
        done = 0
        for q in item["questions"]:
            mark, style = _MARKS[q["state"]]
            done += q["state"] == "answered"
            command = "\n".join(q["commands"]) or "(written answer)"
            if q["state"] == "missing":
                command = escape(q["missing"]["command"]) + f"\n[dim]not in nnlab yet: {escape(q['missing']['why'])}[/]"
            else:
                command = escape(command)
            if q["state"] == "partial":
                command += f"\n[dim]{sum(r is not None for r in q['runs'])} of {len(q['runs'])} runs done[/]"
            table.add_row(f"[{style}]{mark}[/]", escape(q["id"]), escape(q["summary"]), command)
        console.print(table)
        runnable = sum(q["kind"] == "run" for q in item["questions"])
        console.print(f"[dim]{done} of {runnable} questions with runs answered · "
                      f"`nnlab assignment run {escape(item['name'])}` runs them[/]\n")
    console.print("[dim]✓ a completed run answers it · ✗ not yet · — a written answer · ⚙ an instant calculator "
                  "(no run)[/]")


def register(app: typer.Typer) -> None:
    """Join `nnlab assignment` to the root app."""
    app.add_typer(assignment_app, name="assignment", rich_help_panel=RUNS_AND_DATA,
                  help="The course assignments: questions, their commands, ✓ when answered; run them all.")
