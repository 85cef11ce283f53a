"""`nnlab runs export` and `nnlab runs rm`: the commands that write or delete files."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from nnlab.cli.commands.runs.group import RunRef, RunRefs, readable, resolve, run_errors, runs_app, store_at
from nnlab.cli.common import fail, make_console
from nnlab.cli.options import DeviceOverrideOpt, RunsDirOpt


# ---- export -------------------------------------------------------------------------------

@runs_app.command("export")
def export(
    run_refs: RunRefs,
    csv_output: Annotated[bool, typer.Option("--csv", help="CSV, long format: one row per metric value (the default).")] = True,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file (never inside a run folder) instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --output file if it exists.")] = False,
    runs_dir: RunsDirOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON lines instead of CSV.")] = False,
    tensorboard: Annotated[Optional[Path], typer.Option(
        "--tensorboard", help="Write TensorBoard event files here instead (scalars, PNG artifacts, config as "
        "hparams and text; one folder per run). Needs `pip install 'nnlab[tensorboard]'`.",
        show_default=False)] = None,
) -> None:
    """Metrics of one or more runs in long format (run, command, step, epoch, split, name, value, time)."""
    from nnlab.runs.files import atomic_output
    from nnlab.view.format import plain

    store = store_at(runs_dir)
    runs = resolve(store, run_refs)
    readable(runs)
    if tensorboard is not None:  # H7's block: nnlab.report.tensorboard does the writing
        from nnlab.report.tensorboard import export_runs

        with run_errors():
            store.check_output(tensorboard)
            counts = export_runs(runs, tensorboard)
        for run_id, c in counts.items():
            make_console().print(plain(f"{run_id}: {c['scalars']} scalars, {c['images']} images, "
                                       f"{c['hparams']} hparams"), soft_wrap=True, markup=False)
        make_console().print(plain(f"TensorBoard files written to {tensorboard}; view them with "
                                   f"`tensorboard --logdir {tensorboard}`"), soft_wrap=True, markup=False)
        return
    if output is None:
        _write_export(sys.stdout, runs, json_output)
        return
    with run_errors():
        store.check_output(output)
    if output.exists() and not force:
        fail(plain(f"{output} exists; pass --force to replace it, or choose another --output"))
    if not output.parent.is_dir():
        fail(plain(f"cannot write {output}: the folder {output.parent} does not exist; create it first"))
    with run_errors():
        with atomic_output(output, newline="") as out:
            count = _write_export(out, runs, json_output)
    make_console().print(plain(f"{count} metric values from {len(runs)} run(s) written to {output}"),
                         soft_wrap=True, markup=False)


def _write_export(out, runs: list, json_output: bool) -> int:
    """Write the runs' metric records to `out` as CSV or JSON lines; returns how many."""
    import json

    from nnlab.runs import series
    from nnlab.view.format import plain

    writer = None if json_output else csv.DictWriter(out, fieldnames=series.EXPORT_FIELDS)
    if writer:
        writer.writeheader()
    count = 0
    for run in runs:
        for row in series.export_rows(run, run.metrics()):
            count += 1
            if writer:  # strings from the file as printable text (an undecodable name cannot be written)
                writer.writerow({k: plain(v, 10**6) if isinstance(v, str) else v for k, v in row.items()})
            else:
                out.write(json.dumps(row) + "\n")
    return count


# ---- rerun (H7's block: the logic is nnlab.report.rerun) -----------------------------------

@runs_app.command("rerun")
def rerun(
    run_ref: RunRef,
    check: Annotated[bool, typer.Option("--check", help="Compare the two summaries key by key: `reproduced`, "
                                        "or every difference and exit 1.")] = False,
    device: DeviceOverrideOpt = None,
    runs_dir: RunsDirOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help='Print {"reproduced", "differences", ...} on stdout.')]
    = False,
) -> None:
    """Re-run a recorded run from its run.json (command and config, not its old flags) as a new run linked by `rerun_of`."""
    from nnlab import experiments
    from nnlab.cli.common import console_recorder, finish_run, print_json
    from nnlab.report import rerun as reruns

    store = store_at(runs_dir)
    original = resolve(store, [run_ref])[0]
    console = make_console(json_output)
    with run_errors():
        planned = reruns.plan(original, device)
        for warning in planned.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")
        started = experiments.begin(planned.command, planned.config, store)
        started.writer.update(rerun_of=original.id)
    recorder = console_recorder(started.writer, store, console, getattr(planned.config, "images", "auto"))
    finish_run(started.writer, console, lambda: started.run(recorder))
    if not check:
        if json_output:
            print_json({"run_id": started.writer.id, "rerun_of": original.id})
        return
    new = store.get(started.writer.path.name)
    differences, skipped = reruns.compare(original.summary(), new.summary())
    differences = reruns.fact_differences(original, new) + differences
    note = reruns.device_note(original, new)
    if json_output:
        print_json({"reproduced": not differences, "differences": differences, "run_id": new.id,
                    "rerun_of": original.id, "not_compared": skipped, "warnings": planned.warnings + [note] * bool(note)})
    elif differences:
        console.print(f"[red]not reproduced:[/] {len(differences)} summary value(s) differ from {escape(original.id)}")
        for d in differences:
            console.print(escape(f"  {d['key']}: {d['original']!r} -> {d['rerun']!r}" + (f" ({d['note']})" if d.get("note") else "")))
    else:
        console.print(f"[green]reproduced:[/] every summary value of {escape(original.id)} is identical"
                      + (f" [dim](timings not compared: {escape(', '.join(skipped))})[/]" if skipped else ""))
    if note and not json_output:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if differences:
        raise typer.Exit(1)


# ---- rm -----------------------------------------------------------------------------------

@runs_app.command("rm")
def rm(
    run_refs: RunRefs,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Delete runs (their whole folders, directly under the runs root). Asks first unless --yes.

    A run still running on this machine is refused: stop it first.
    """
    from rich.text import Text

    from nnlab.runs import query
    from nnlab.view.format import plain
    from nnlab.view.overview import status_text

    store = store_at(runs_dir)
    runs = list({str(run.path): run for run in resolve(store, run_refs)}.values())
    with run_errors():
        for run in runs:
            store.check_removable(run)
    console = make_console()
    for run in runs:
        console.print(Text.assemble(f"  {plain(run.id)}  {plain(run.command)}  ",
                                    status_text(query.status_of(run))))
    if not yes:
        try:
            confirmed = typer.confirm(f"Delete these {len(runs)} run(s)?", default=False)
        except (typer.Abort, EOFError):
            confirmed = False
        if not confirmed:
            console.print("nothing deleted (pass --yes to skip the question)")
            raise typer.Exit(1)
    with run_errors():
        for run in runs:
            store.remove(run)
    console.print(f"deleted {len(runs)} run(s)")
