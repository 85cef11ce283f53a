"""`nnlab assignment`: the five course assignments, which questions the runs answer, and running them all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import RUNS_AND_DATA, DataDirOpt, DeviceOverrideOpt, JsonOpt, RunsDirOpt

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


def _child_recorder(bar, task):
    """Recorders for the child runs: they write the run's files silently, show their progress
    as the overall bar's status, and print warnings above it."""
    from contextlib import contextmanager

    from rich.markup import escape

    from nnlab.runs.recorder import Progress, Recorder

    class _Handle(Progress):
        def __init__(self, total: int, description: str):
            self.total, self.done, self.description = total, 0, description

        def advance(self, n: int = 1, info: str = "") -> None:
            self.done += n
            bar.update(task, status=f"{self.description} {self.done}/{self.total} {info}"[:60])

    class ChildRecorder(Recorder):
        def warn(self, message: str) -> None:
            bar.console.print(f"[yellow]warning:[/] {escape(message)}")

        @contextmanager
        def progress(self, total: int, description: str):
            yield _Handle(total, description)

    return lambda writer, store: ChildRecorder(writer, store)


@assignment_app.command("run")
def run_assignment(
    name: Annotated[str, typer.Argument(help="The assignment (seed name; see `nnlab assignment list`).",
                                        show_default=False)],
    quick: Annotated[bool, typer.Option("--quick", help="Smoke run: every training cut short (about 1-2 minutes "
                                        "a seed on 2 CPU cores); the report says so.")] = False,
    only: Annotated[Optional[str], typer.Option("--only", help="Only these questions, e.g. Q1b,Q2b.",
                                                show_default=False)] = None,
    data_dir: DataDirOpt = None,
    device: DeviceOverrideOpt = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for every command (default: each one's own).",
                                                rich_help_panel="Common options", show_default=False)] = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Run every question's commands in order, as child runs of one assignment run, with one progress bar.

    A question that fails is recorded and the rest still run; exit 1 if any failed. Then
    `nnlab report --assignment NAME -o DIR` writes the hand-in.
    """
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from nnlab import assignments
    from nnlab.assignments import runner
    from nnlab.core.device import check_device_name
    from nnlab.runs.store import RunStore

    chosen = [q.strip() for q in only.split(",") if q.strip()] if only else None
    with user_errors():
        assignment = assignments.load(name)
        runner.select(assignment, chosen)  # unknown question ids: exit 2 before any run exists
        if device is not None:
            check_device_name(device)
    if data_dir is not None and not data_dir.is_dir():
        fail(f"--data-dir {data_dir} is not a folder; pass the folder that holds the datasets")
    console = make_console(json_output)
    store = RunStore(runs_dir)
    shared = {"data_dir": str(data_dir) if data_dir else None, "device": device, "seed": seed}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("[dim]{task.fields[status]}"))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"{name}", total=None, status="")

        def on_step(index: int, total: int, step) -> None:
            bar.update(task, total=total, completed=index, description=f"{step.question.id}: {' '.join(step.argv[1:3])}",
                       status="")
            if not console.is_terminal:  # no live bar: one plain line per command
                console.print(escape(f"[{index + 1}/{total}] {step.question.id}: {' '.join(step.argv)}"), markup=True)

        def on_result(question, result) -> None:
            mark = {"completed": "[green]✓[/]", "failed": "[red]✗[/]"}[result.status]
            line = f"{mark} {escape(question.id)} ({result.seconds:.0f}s)"
            if result.error:
                line += f" [red]{escape(result.error)}[/]"
            bar.console.print(line)

        with user_errors():
            batch, results = runner.run_assignment(assignment, store, quick=quick, only=chosen, shared=shared,
                                                   recorder_for=_child_recorder(bar, task), on_step=on_step,
                                                   on_result=on_result)
        bar.update(task, completed=bar.tasks[0].total, description=name, status="")
    failed = [qid for qid, r in results.items() if r.status == "failed"]
    if json_output:
        print_json({"run_id": batch.id, "quick": quick,
                    "questions": {qid: vars(r) for qid, r in results.items()}})
    else:
        console.print(f"{len(results) - len(failed)} of {len(results)} questions ran" +
                      (f"; failed: {escape(', '.join(failed))}" if failed else "") +
                      (" [yellow](quick: smoke settings)[/]" if quick else ""))
        not_yet = [q.id for q in assignment.questions if q.missing and (not chosen or q.id in chosen)]
        if not_yet:
            console.print(f"[dim]not run, no command yet: {escape(', '.join(not_yet))} (see `nnlab assignment list`)[/]")
        console.print(f"[green]assignment run saved:[/] {escape(str(batch.path))}")
        console.print(f"next: nnlab report --assignment {escape(name)} -o report")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Join `nnlab assignment` to the root app."""
    app.add_typer(assignment_app, name="assignment", rich_help_panel=RUNS_AND_DATA,
                  help="The course assignments: questions, their commands, ✓ when answered; run them all.")
