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
    known = index.read(store)  # one index file instead of every run.json and summary.json
    summaries = known.summaries()
    runs = query.select(known.runs(), command=command, status=status, text=filter_text)
    ordered = query.tree_order(runs, key=lambda r: r.id, reverse=True)
    if last is not None:
        keep = {r.id for r, depth in ordered if depth == 0}
        keep = set(sorted(keep, reverse=True)[:last])
        ordered = _limit(ordered, keep)
    records = [(query.run_record(run, summaries.get(run.id, {})), depth) for run, depth in ordered]
    if json_output:
        print_json([dict(rec, depth=depth) for rec, depth in records])
        return
    if csv_output:
        writer = csv.DictWriter(sys.stdout, fieldnames=LIST_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: plain(v, 10**6) if isinstance(v, str) else v for k, v in rec.items()}
                         for rec, _ in records)
        return
    console = make_console()
    if not records:
        where = store.root if store.root.is_dir() else f"{store.root} (no such folder)"
        console.print(plain(f"no runs under {where}" + (" match" if (command or status or filter_text) else "")),
                      markup=False)
        return
    console.print(_lines([run for run, _ in ordered], records, console.width), soft_wrap=True)
    console.print(f"[dim]{len(records)} run(s) under {escape(plain(store.root))}[/]")


def _lines(runs: list, records: list, width: int):
    """The list as one Text: columns sized to their content, the key metric cut to the width.

    Laid out here rather than by rich.Table, which measures every cell and took seconds for
    2,000 runs. The id (what you type next) is never cut; the started column goes first when
    the terminal is narrow, since the id begins with the start time.
    """
    from rich.cells import set_cell_size
    from rich.text import Text

    from nnlab.view import format as fmt
    from nnlab.view.overview import STATUS_STYLE

    rows = []
    for run, (rec, depth) in zip(runs, records):
        # value first: if the column must be cut, the number survives
        metric = f"{fmt.format_value(rec['key_value'])} {fmt.plain(rec['key_metric'])}" if rec["key_metric"] else ""
        if rec["status"] == "unreadable":
            metric = fmt.plain(rec["error"] or "")
        rows.append({"id": "  " * depth + ("└ " if depth else "") + fmt.plain(rec["id"]),
                     "command": fmt.plain(rec["command"], 40), "status": fmt.plain(rec["status"], 20),
                     "started": fmt.format_started(run), "time": fmt.format_duration(rec["duration_s"]),
                     "key metric": metric})
    widths = {name: max(len(name), *(len(row[name]) for row in rows))
              for name in ("id", "command", "status", "started", "time")}
    if width < sum(widths.values()) + len(widths) + 24:
        del widths["started"]
    widths["key metric"] = max(12, width - sum(widths.values()) - len(widths))
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" ".join(set_cell_size(name, w) for name, w in widths.items()).rstrip() + "\n", style="bold")
    for row in rows:
        for name, w in widths.items():
            text = row[name]
            if name == "key metric":  # the last column: cut, never padded
                out.append(text if len(text) <= w else text[:w - 1] + "…")
            else:
                out.append(set_cell_size(text, w), style=STATUS_STYLE.get(text, "") if name == "status" else "")
                out.append(" ")
        out.append("\n")
    out.rstrip()
    return out


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
