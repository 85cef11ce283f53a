"""`nnlab runs list` and `nnlab runs diff`."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape

from nnlab.cli.commands.runs.group import RunRefs, readable, resolve, runs_app, store_at
from nnlab.cli.common import fail, make_console, print_json
from nnlab.cli.options import JsonOpt, RunsDirOpt

STATUS_CHOICES = ("running", "completed", "failed", "interrupted", "stale", "unreadable")
LIST_FIELDS = ["id", "command", "status", "started", "duration_s", "key_metric", "key_value", "parent", "path", "error"]


# ---- list ---------------------------------------------------------------------------------

@runs_app.command("list")
def list_runs(
    command: Annotated[Optional[str], typer.Option("--command", "-c", help="Only this command, exactly; a glob such as `ae*` also takes `ae cluster`.")] = None,
    status: Annotated[Optional[str], typer.Option("--status", "-s", help="Only this status: running, completed, failed, interrupted, stale, unreadable.")] = None,
    filter_text: Annotated[str, typer.Option("--filter", "-f", help="Browser-style filter, e.g. 'lr:4.5 random' (key:value exact or a glob).")] = "",
    last: Annotated[Optional[int], typer.Option("--last", "-n", help="Only the N most recent runs (and their children).", min=1)] = None,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV on stdout.")] = False,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Runs, newest first, children indented under their parent: id, command, status, start, duration, key metric."""
    from nnlab.runs import index, query
    from nnlab.view.format import plain

    if status and status not in STATUS_CHOICES:
        fail(f"unknown status '{plain(status)}'; use one of {', '.join(STATUS_CHOICES)}")
    store = store_at(runs_dir)
    with index.many_objects():  # 100,000 runs' objects, made at once
        known = index.read(store)  # one index file instead of every run.json and summary.json
        runs = query.select(known.runs(), command=command, status=status, text=filter_text)
        ordered = query.tree_order(runs, key=lambda r: r.id, reverse=True)
        if last is not None:
            keep = {r.id for r, depth in ordered if depth == 0}
            keep = set(sorted(keep, reverse=True)[:last])
            ordered = _limit(ordered, keep)
        if json_output:
            print_json([dict(query.run_record(run, run.key), depth=depth) for run, depth in ordered])
            return
        if csv_output:
            writer = csv.DictWriter(sys.stdout, fieldnames=LIST_FIELDS, extrasaction="ignore")
            writer.writeheader()
            records = (query.run_record(run, run.key) for run, _ in ordered)
            writer.writerows({k: plain(v, 10**6) if isinstance(v, str) else v for k, v in rec.items()} for rec in records)
            return
        console = make_console()
        if not ordered:
            where = store.root if store.root.is_dir() else f"{store.root} (no such folder)"
            console.print(plain(f"no runs under {where}" + (" match" if (command or status or filter_text) else "")),
                          markup=False)
            return
        _write_lines(console, ordered)
        console.print(f"[dim]{len(ordered)} run(s) under {escape(plain(store.root))}[/]")


def _write_lines(console, ordered: list) -> None:
    """The list as lines of text: columns sized to their content, the key metric cut to the width.

    Laid out here, a column at a time, and written to the console's file a thousand lines at a
    time, rather than through rich (a Table measures every cell, a Text wraps every line:
    seconds for 100,000 runs). The id (what you type next) is never cut; the started column
    goes first when the terminal is narrow, since the id begins with the start time. The
    status is coloured only where the console writes colour (a terminal, not a pipe).
    """
    from rich.cells import set_cell_size

    from nnlab.runs import query
    from nnlab.view import format as fmt
    from nnlab.view.overview import STATUS_STYLE

    ids, commands, statuses, started, times, metrics = [], [], [], [], [], []
    for run, depth in ordered:
        status = query.status_of(run)
        if status == "unreadable":
            metric = fmt.plain(query.status_note(run) or "")
        else:
            found = query.key_metric(run.key)  # value first: if the column must be cut, the number survives
            metric = f"{fmt.format_value(found[1])} {fmt.plain(found[0])}" if found else ""
        run_id = run.id  # fmt.plain at once for the plain ASCII nearly every id is
        run_id = run_id if run_id.isascii() and run_id.isprintable() else fmt.plain(run_id)
        ids.append("  " * depth + ("└ " if depth else "") + run_id)
        commands.append(run.command)
        statuses.append(status)
        started.append(fmt.format_started(run))
        times.append(fmt.format_duration(query.duration_of(run)))
        metrics.append(metric)
    # commands and statuses: a few texts shared by many runs, made printable once each
    commands = _each_once(commands, lambda text: fmt.plain(text, 40))
    statuses = _each_once(statuses, lambda text: fmt.plain(text, 20))
    names = ("id", "command", "status", "started", "time")
    columns = [ids, commands, statuses, started, times]
    widths = [max(len(name), max(map(len, column))) for name, column in zip(names, columns)]
    shown = [0, 1, 2, 3, 4]
    if console.width < sum(widths) + len(widths) + 24:
        shown.remove(3)
    last = max(12, console.width - sum(widths[i] + 1 for i in shown))
    paint = _painter(console)

    def pad(text: str, width: int) -> str:  # ljust where one character is one cell, as in nearly every id
        return text.ljust(width) if text.isascii() else set_cell_size(text, width)

    cells = [_each_once(columns[i], lambda text, i=i: paint(pad(text, widths[i]), STATUS_STYLE.get(text, "")))
             if i == 2 else [pad(text, widths[i]) for text in columns[i]] for i in shown]
    cells.append([text if len(text) <= last else text[:last - 1] + "…" for text in metrics])
    header = " ".join(pad(names[i], widths[i]) for i in shown) + " key metric"
    lines = [paint(header, "bold"), *(" ".join(row).rstrip() for row in zip(*cells))]
    out = console.file
    for i in range(0, len(lines), 1000):
        out.write("\n".join(lines[i:i + 1000]) + "\n")
    out.flush()


def _each_once(texts: list[str], change) -> list[str]:
    """`change` of each text, called once per distinct text."""
    done = {text: change(text) for text in set(texts)}
    return [done[text] for text in texts]


def _painter(console):
    """`paint(text, style)`: the text in a rich style's escape codes where the console writes colour, else as it is."""
    from rich.console import COLOR_SYSTEMS
    from rich.style import Style

    if console.color_system is None or console.no_color:
        return lambda text, style: text
    system = COLOR_SYSTEMS[console.color_system]
    return lambda text, style: Style.parse(style).render(text, color_system=system) if style else text


def _limit(ordered, keep: set[str]):
    """Keep the chosen top-level runs and everything under them."""
    out, inside = [], False
    for run, depth in ordered:
        if depth == 0:
            inside = run.id in keep
        if inside:
            out.append((run, depth))
    return out


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
    runs = resolve(store_at(runs_dir), run_refs)
    readable(runs)
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
