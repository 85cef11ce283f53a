"""The run overview the CLI and the browser share: facts, status colours, tables shown literally."""

from __future__ import annotations

import io

from rich.console import Console
from runfactory import make_corrupt, make_run

from nnlab.runs import query
from nnlab.runs.store import Run
from nnlab.view import overview


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_one_status_style_for_cli_and_browser():
    from nnlab.tui import runs_table

    assert runs_table.STATUS_STYLE is overview.STATUS_STYLE
    assert overview.status_text("unreadable").style == "bold red" and overview.status_text("failed").style == "red"


def test_overview_of_a_run(tmp_runs):
    writer = make_run(tmp_runs, config={"lr": 0.1, "opt": {"name": "[b]adam"}})
    writer.update(git={"commit": "0123456789abcdef" * 2, "dirty": True}, dataset="mnist")
    run = Run.load(writer.path)
    text = render(overview.run_overview(run, run.summary(), run.artifacts(), run.metrics()))
    for part in ("0123456789ab (dirty)", "dataset   mnist", "opt.name  [b]adam", "test_accuracy",
                 "metrics (last value, 21 records)", "centers.png", "23.0 kB"):
        assert part in text, part
    assert render(overview.run_title(run, prefix="run ")).startswith(f"run {run.id}  kmeans  completed")


def test_overview_of_an_unreadable_run_lists_its_files(tmp_runs):
    run = Run.load(make_corrupt(tmp_runs))
    text = render(overview.run_overview(run, {}, [], []))
    assert "run.json is unreadable" in text and "files: artifacts, run.json" in text


def test_diff_table_shows_values_literally(tmp_runs):
    a = Run.load(make_run(tmp_runs, config={"lr": "[red]1[/red]"}, image=False).path)
    b = Run.load(make_run(tmp_runs, config={"lr": 2, "k": 3}, image=False).path)
    text = render(overview.diff_table(["a", "b"], query.diff_runs([a, b], with_summary=False)))
    assert "[red]1[/red]" in text and "config.k" in text and "-" in text
