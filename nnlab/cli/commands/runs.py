"""`nnlab runs`: list, show, diff, export, rm and tail saved runs, for people and for scripts."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import RUNS_AND_DATA, JsonOpt, RunsDirOpt

runs_app = typer.Typer(no_args_is_help=True, rich_markup_mode="rich",
                       help="List, show, compare, export and delete saved runs; `runs tail` follows one live.")

RunRef = Annotated[str, typer.Argument(help="A run: its id, a unique prefix or suffix of it, its path, or `latest`.",
                                       show_default=False)]
RunRefs = Annotated[list[str], typer.Argument(help="Runs: ids, unique prefixes or suffixes, paths, or `latest`.",
                                              show_default=False)]


def _store(runs_dir: Optional[Path]):
    from nnlab.runs.store import RunStore

    return RunStore(runs_dir)


def _get(store, refs: list[str]):
    """Resolve refs to runs, failing with one line (exit 2) on the first unknown one."""
    with user_errors():
        return [store.get(ref) for ref in refs]


# ---- list ---------------------------------------------------------------------------------

@runs_app.command("list")
def list_runs(
    command: Annotated[Optional[str], typer.Option("--command", "-c", help="Only this command (`kmeans` also matches `kmeans eta`).")] = None,
    status: Annotated[Optional[str], typer.Option("--status", "-s", help="Only this status: running, completed, failed, interrupted, stale, unreadable.")] = None,
    filter_text: Annotated[str, typer.Option("--filter", "-f", help="Browser-style filter, e.g. 'lr:4.5 random'.")] = "",
    last: Annotated[Optional[int], typer.Option("--last", "-n", help="Only the N most recent runs (and their children).", min=1)] = None,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV on stdout.")] = False,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Runs, newest first, children indented under their parent: id, command, status, start, duration, key metric."""
    from nnlab.runs import query
    from nnlab.view import format as fmt
    from nnlab.view.overview import STATUS_STYLE

    valid = ("running", "completed", "failed", "interrupted", "stale", "unreadable")
    if status and status not in valid:
        fail(f"unknown status '{status}'; use one of {', '.join(valid)}")
    store = _store(runs_dir)
    runs = query.select(store.iter_runs(), command=command, status=status, text=filter_text)
    ordered = query.tree_order(runs, key=lambda r: r.id, reverse=True)
    if last is not None:
        keep = {r.id for r, depth in ordered if depth == 0}
        keep = set(sorted(keep, reverse=True)[:last])
        ordered = _limit(ordered, keep)
    records = [(query.run_record(run, run.summary()), depth) for run, depth in ordered]
    if json_output:
        print_json([dict(rec, depth=depth) for rec, depth in records])
        return
    if csv_output:
        fields = ["id", "command", "status", "started", "duration_s", "key_metric", "key_value", "parent", "path", "error"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rec for rec, _ in records)
        return
    console = make_console()
    if not records:
        where = store.root if store.root.is_dir() else f"{store.root} (no such folder)"
        console.print(f"no runs under {where}" + (" match" if (command or status or filter_text) else ""))
        return
    from rich.cells import set_cell_size
    from rich.text import Text

    # Lines are laid out here rather than by rich.Table, which measures every cell and took
    # seconds for 2,000 runs. The id (what you type next) is never cut; the started column
    # goes first when the terminal is narrow, since the id begins with the start time.
    ids = ["  " * depth + ("└ " if depth else "") + rec["id"] for rec, depth in records]
    by_id = {run.id: run for run, _ in ordered}
    rows = []
    for shown_id, (rec, depth) in zip(ids, records):
        # value first: if the column must be cut, the number survives
        metric = f"{fmt.format_value(rec['key_value'])} {fmt.plain(rec['key_metric'])}" if rec["key_metric"] else ""
        if rec["status"] == "unreadable":
            metric = rec["error"] or ""
        rows.append({"id": shown_id, "command": rec["command"], "status": rec["status"],
                     "started": fmt.format_started(by_id[rec["id"]]),
                     "time": fmt.format_duration(rec["duration_s"]), "key metric": metric})
    widths = {name: max(len(name), *(len(row[name]) for row in rows))
              for name in ("id", "command", "status", "started", "time")}
    if console.width < sum(widths.values()) + len(widths) + 24:
        del widths["started"]
    widths["key metric"] = max(12, console.width - sum(widths.values()) - len(widths))
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" ".join(set_cell_size(name, w) for name, w in widths.items()).rstrip() + "\n", style="bold")
    for row in rows:
        for name, w in widths.items():
            text = row[name]
            if name == "key metric":  # the last column: cut, never padded
                cell = text if len(text) <= w else text[:w - 1] + "…"
            else:
                cell = set_cell_size(text, w)
            out.append(cell, style=STATUS_STYLE.get(text, "") if name == "status" else "")
            if name != "key metric":
                out.append(" ")
        out.append("\n")
    out.rstrip()
    console.print(out, soft_wrap=True)  # lines already fit: skip Rich's (slow) wrapping
    console.print(f"[dim]{len(records)} run(s) under {store.root}[/]")


def _limit(ordered, keep: set[str]):
    """Keep the chosen top-level runs and everything under them."""
    out, inside = [], False
    for run, depth in ordered:
        if depth == 0:
            inside = run.id in keep
        if inside:
            out.append((run, depth))
    return out


# ---- show ---------------------------------------------------------------------------------

@runs_app.command("show")
def show(
    run_ref: RunRef,
    images: Annotated[bool, typer.Option("--images", "-i", help="Also draw the run's PNG figures in the terminal.")] = False,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """One run: its facts, config, summary, metrics and artifacts."""
    from nnlab.runs import images as image_files
    from nnlab.runs import query

    (run,) = _get(_store(runs_dir), [run_ref])
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
    if run.error:
        return
    if images:
        from nnlab.view.terminal import halfblock

        for path in image_files.image_artifacts(run):
            console.print(f"[bold]{path.name}[/]")
            try:
                console.print(halfblock(image_files.read_image(path), max_width=max(20, console.width - 2)))
            except Exception as exc:  # one bad PNG must not hide the others
                console.print(f"[red]{exc}[/]")


# ---- diff ---------------------------------------------------------------------------------

@runs_app.command("diff")
def diff(
    run_refs: RunRefs,
    no_summary: Annotated[bool, typer.Option("--config-only", help="Compare configs only, not the summaries.")] = False,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Only the keys that differ between two or more runs: config, summary and run facts."""
    from nnlab.runs import query

    if len(run_refs) < 2:
        fail("diff needs at least two runs, e.g. `nnlab runs diff RUN_A RUN_B`")
    runs = _get(_store(runs_dir), run_refs)
    with user_errors():
        rows = query.diff_runs(runs, with_summary=not no_summary)
    if json_output:
        print_json({"runs": [r.id for r in runs],
                    "differences": {key: [None if v is query.MISSING else v for v in values] for key, values in rows}})
        return
    from nnlab.view.overview import diff_table

    console = make_console()
    if not rows:
        console.print("no differences")
        return
    console.print(diff_table([run.id[-6:] if len(runs) > 2 else run.id for run in runs], rows))


# ---- export -------------------------------------------------------------------------------

@runs_app.command("export")
def export(
    run_refs: RunRefs,
    csv_output: Annotated[bool, typer.Option("--csv", help="CSV, long format: one row per metric value (the default).")] = True,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    runs_dir: RunsDirOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON lines instead of CSV.")] = False,
) -> None:
    """Metrics of one or more runs in long format (run, command, step, epoch, split, name, value, time)."""
    import json

    from nnlab.runs import query, series

    runs = _get(_store(runs_dir), run_refs)
    for run in runs:
        if run.error:
            fail(f"run {run.id} is unreadable: {run.error}")
    try:
        out = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    count = 0
    try:
        writer = None if json_output else csv.DictWriter(out, fieldnames=series.EXPORT_FIELDS)
        if writer:
            writer.writeheader()
        for run in runs:
            for row in series.export_rows(run, run.metrics()):
                count += 1
                if writer:
                    writer.writerow(row)
                else:
                    out.write(json.dumps(row) + "\n")
    finally:
        if output:
            out.close()
    if output:
        make_console().print(f"{count} metric values from {len(runs)} run(s) written to {output}", soft_wrap=True)


# ---- rm -----------------------------------------------------------------------------------

@runs_app.command("rm")
def rm(
    run_refs: RunRefs,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Also delete runs that are still running.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Delete runs (their whole folders). Asks first unless --yes; a live run needs --force."""
    from nnlab.runs import query

    store = _store(runs_dir)
    runs = list({run.path.resolve(): run for run in _get(store, run_refs)}.values())
    live = [r for r in runs if query.status_of(r) == "running"]
    if live and not force:
        fail(f"run {live[0].id} is still running; stop it first, or pass --force to delete it anyway")
    console = make_console()
    for run in runs:
        console.print(f"  {run.id}  {run.command}  {query.status_of(run)}")
    if not yes:
        try:
            confirmed = typer.confirm(f"Delete these {len(runs)} run(s)?", default=False)
        except (typer.Abort, EOFError):
            confirmed = False
        if not confirmed:
            console.print("nothing deleted (pass --yes to skip the question)")
            raise typer.Exit(1)
    for run in runs:
        try:
            store.remove(run)
        except OSError as exc:
            fail(f"cannot delete {run.path}: {exc.strerror or exc}", 1)
    console.print(f"deleted {len(runs)} run(s)")


# ---- tail ---------------------------------------------------------------------------------

@runs_app.command("tail")
def tail(
    run_ref: RunRef,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many recorded values to print first.", min=0)] = 10,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls of the run's files.", min=0.05)] = 1.0,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Keep following while the run is running.")] = True,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Print a run's latest metric values and follow new ones until the run ends (Ctrl-C stops)."""
    from nnlab.runs import query, series
    from nnlab.runs.store import Run
    from nnlab.view.format import describe_row

    (run,) = _get(_store(runs_dir), [run_ref])
    if run.error:
        fail(f"run {run.id} is unreadable: {run.error}")
    console = make_console()
    follower = series.MetricsFollower.for_run(run)
    first = follower.poll()
    for row in first[-lines:] if lines else []:
        console.print(describe_row(row), highlight=False, markup=False)
    try:
        while follow and query.status_of(run) == "running":
            time.sleep(interval)
            for row in follower.poll():
                console.print(describe_row(row), highlight=False, markup=False)
            fresh = Run.load(run.path)
            if not fresh.error:
                run = fresh
            elif not run.path.exists():
                fail(f"run {run.id} was deleted while followed", 1)
            # else: unreadable for a moment (being rewritten); keep the last good view
        for row in follower.poll():  # whatever was written just before the end
            console.print(describe_row(row), highlight=False, markup=False)
    except KeyboardInterrupt:
        console.print("[dim]stopped following[/]")
        raise typer.Exit(130) from None
    status = query.status_of(run)
    note = query.status_note(run)
    console.print(f"run {run.id} is {status}" + (f": {note}" if note else ""), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Join the runs group to the app."""
    app.add_typer(runs_app, name="runs", rich_help_panel=RUNS_AND_DATA,
                  help="List, show, diff, export, rm and tail saved runs.")
