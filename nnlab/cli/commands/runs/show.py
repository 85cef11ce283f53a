"""`nnlab runs show` (one run: facts, config, summary, metrics, artifacts, figures) and
`nnlab runs tail` (what a run printed, followed live)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from nnlab.cli.commands.runs.group import RunRef, readable, resolve, runs_app, store_at
from nnlab.cli.common import fail, make_console, print_json
from nnlab.cli.options import JsonOpt, RunsDirOpt

IMAGE_CHOICES = ("auto", "kitty", "sixel", "halfblock", "none")


@runs_app.command("show")
def show(
    run_ref: RunRef,
    images: Annotated[str, typer.Option(
        "--images", "-i", help="Also draw the run's figures: auto (the terminal's best; a line naming each PNG "
        "when not a terminal), kitty, sixel, halfblock, or none.")] = "none",
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """One run: its facts, config, summary, metrics and artifacts."""
    from nnlab.runs import query

    if images not in IMAGE_CHOICES:
        fail(f"unknown --images '{images}'; use one of {', '.join(IMAGE_CHOICES)}")
    (run,) = resolve(store_at(runs_dir), [run_ref])
    summary = run.summary()
    rows = run.metrics()
    artifacts = run.artifacts()
    if json_output:
        last = {f"{r.get('split') or 'all'}/{r.get('name')}": r.get("value") for r in rows}
        print_json({**query.run_record(run, summary), "info": run.info, "config": run.config, "summary": summary,
                    "last_metrics": last, "metric_records": len(rows),
                    "artifacts": [str(p.relative_to(run.path)) for p in artifacts]})
        return
    from nnlab.view.overview import run_overview, run_title

    console = make_console()
    console.print(run_title(run))
    console.print(run_overview(run, summary, artifacts, rows))
    if images != "none" and not run.error:
        _draw_images(console, run, images)


def _draw_images(console, run, mode: str) -> None:
    """Each image artifact under its name, drawn the way `mode` resolves to on this terminal."""
    from rich.text import Text

    from nnlab.errors import NnlabError
    from nnlab.runs import images as image_files
    from nnlab.view.format import plain
    from nnlab.view.graphics import detect, render_image

    graphics = detect(mode)
    for path in image_files.image_artifacts(run):
        if graphics.mode == "none":  # not a terminal: one line naming the PNG
            console.print(Text(f"image: {plain(path)}"), soft_wrap=True)
            continue
        console.print(Text(plain(path.name), style="bold"))
        try:
            pixels = image_files.read_image(path)
        except NnlabError as exc:  # one bad PNG must not hide the others
            console.print(Text(plain(exc.message), style="red"))
            continue
        console.print(render_image(pixels, graphics, max_width=max(20, console.width - 2), path=path))


@runs_app.command("tail")
def tail(
    run_ref: RunRef,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines (or values) to print first.", min=0)] = 10,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls of the run's files.",
                                            min=0.05, max=3600)] = 1.0,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Keep following while the run is running.")] = True,
    metrics: Annotated[bool, typer.Option("--metrics", help="Print the recorded metric values instead of the "
                                          "console output.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Print what a run printed (its console.log) and follow it until the run ends (Ctrl-C stops).

    A run without a console.log (or with --metrics) shows its metric values instead.
    """
    from nnlab.runs import query, series
    from nnlab.runs.files import CONSOLE_FILE
    from nnlab.runs.store import Run
    from nnlab.view.format import describe_row, plain

    (run,) = resolve(store_at(runs_dir), [run_ref])
    readable([run])
    console = make_console()
    if metrics or not (run.path / CONSOLE_FILE).exists():
        follower: series.FileFollower = series.MetricsFollower.for_run(run)

        def show_line(row) -> None:
            console.print(describe_row(row), highlight=False, markup=False)
    else:
        follower = series.LogFollower.for_run(run)

        def show_line(line) -> None:
            console.print(plain(line, 10_000), highlight=False, markup=False, soft_wrap=True)
    follower.skip_to_last(lines)
    first = follower.poll()
    for item in first:
        show_line(item)
    try:
        while follow and query.status_of(run) == "running":
            time.sleep(interval)
            for item in follower.poll():
                show_line(item)
            fresh = Run.load(run.path)
            if not fresh.error:
                run = fresh
            elif not run.path.exists():
                fail(plain(f"run {run.id} was deleted while followed"), 1)
            # else: unreadable for a moment (being rewritten); keep the last good view
        for item in follower.poll():  # whatever was written just before the end
            show_line(item)
    except KeyboardInterrupt:
        console.print("[dim]stopped following[/]")
        raise typer.Exit(130) from None
    note = query.status_note(run)
    console.print(plain(f"run {run.id} is {query.status_of(run)}" + (f": {note}" if note else "")),
                  soft_wrap=True, markup=False, highlight=False)
