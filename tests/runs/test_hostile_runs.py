"""Every reader of runs survives hostile run folders (tests/hostile_runs.py): each `runs`
command through CliRunner, and the query/series/images/view functions the browser uses.

A bad run is listed as unreadable with its reason or its bad field is shown as plain text;
commands that need a readable run refuse an unreadable one in one line (exit 2); nothing
raises, hangs or prints a traceback.
"""

from __future__ import annotations

import io
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from hostile_runs import (DEV_ZERO, FIFO, FOLDER, NO_ACCESS, HostileRun, build_runs, dumps, hostile_runs, png,
                          restore_access)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from runfactory import make_run
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.errors import NnlabError
from nnlab.runs import images, query, series
from nnlab.runs.store import Run, RunStore
from nnlab.view.format import plain
from nnlab.view.overview import run_overview, run_title

runner = CliRunner()


@contextmanager
def deadline(seconds: int):
    """Turn a hang (a FIFO opened for reading, /dev/zero read to the end) into a failure."""
    def expired(signum, frame):
        raise TimeoutError(f"a reader hung for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(*args: str, codes=(0,)):
    with deadline(20):
        result = runner.invoke(app, ["runs", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in codes, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output, (args, result.output)
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), (args, result.output)
    return result


@contextmanager
def hostile_root(specs):
    """A runs root with one good run and the hostile ones; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nnlab-hostile-"))
    try:
        root = folder / "runs"
        good = make_run(root, config={"lr": 0.1, "note": "x[bold]y"}, image=False)
        yield root, good, build_runs(root, specs)
    finally:
        restore_access(folder)
        shutil.rmtree(folder)


# every special file in every place, always tried whatever Hypothesis draws
SPECIAL_EXAMPLE = [HostileRun(f"2026-01-01T00-00-00_kmeans_00000{i}", special, special, special, special,
                              {"centers.png": special, "x[bold]y.png": png(20_000, 20_000, rows=2)}, NO_ACCESS)
                   for i, special in enumerate((FIFO, DEV_ZERO, FOLDER, NO_ACCESS))]
DEEP_EXAMPLE = [HostileRun("2026-01-01T00-00-00_x[bold]y_000abc", b"[" * 100_000, b"[" * 100_000 + b"\n",
                           b'{"a": ' * 500 + b"1" + b"}" * 500, b"\xff\x1b[2J\n")]

NAME_EXAMPLE = [HostileRun("bad\udcffname", dumps({"command": "x[bold]y", "status": "completed", "config": {"k": "\udcff"},
                                                 "start_time": float("nan"), "versions": [1], "git": 7})),
                HostileRun("run 2 [red]", dumps({"command": "[red]r[/red]", "status": "failed", "error": {"a": 1},
                                                 "start_time": 1e20, "end_time": float("inf")}),
                           metrics=dumps({"name": "loss", "value": 1.0, "split": ["x"], "epoch": float("nan")}) + b"\n")]

SETTINGS = settings(max_examples=5, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.lists(hostile_runs(), min_size=1, max_size=2))
@example(SPECIAL_EXAMPLE)
@example(DEEP_EXAMPLE)
@example(NAME_EXAMPLE)
def test_every_runs_command_survives_hostile_runs(specs):
    with hostile_root(specs) as (root, good, paths):
        where = ("--runs-dir", str(root))
        listed = invoke("list", *where)
        assert plain(good.id) in listed.output
        invoke("list", "--json", *where)
        invoke("list", "--csv", *where)
        invoke("list", "--filter", "lr:0.1 note:x[bold]y", *where)
        invoke("list", "--command", "[/]*", "--status", "unreadable", *where)
        for path in paths:
            run = Run.load(path)
            ref = str(path)
            shown = invoke("show", ref, "--images", "halfblock", *where)
            if not run.error and isinstance(run.command, str) and 0 < len(run.command) < 30 and run.command.strip():
                assert plain(run.command) in shown.output  # markup shown literally, never eaten
            invoke("show", ref, "--json", *where)
            invoke("diff", str(good.path), ref, *where, codes=(0, 2))
            invoke("export", ref, *where, codes=(0, 2))
            invoke("tail", ref, "--no-follow", *where, codes=(0, 2))
            invoke("tail", ref, "--no-follow", "--metrics", *where, codes=(0, 2))


@SETTINGS
@given(st.lists(hostile_runs(), min_size=1, max_size=2))
@example(SPECIAL_EXAMPLE)
@example(DEEP_EXAMPLE)
@example(NAME_EXAMPLE)
def test_the_browser_reading_layer_survives_hostile_runs(specs):
    with hostile_root(specs) as (root, good, paths), deadline(20):
        runs = RunStore(root).runs()
        assert len(runs) == len(paths) + 1
        console = Console(file=io.StringIO(), width=100)
        for run in runs:
            query.run_record(run, run.summary())
            query.parse_filter("status:unreadable x[bold]y lr:0.1")(run)
            rows = run.metrics()
            for name in series.metric_names(rows):
                series.curves(rows, name, "epoch")
                series.curves(rows, name, "step")
            series.MetricsFollower.for_run(run).poll()
            series.LogFollower.for_run(run).poll()
            console.print(run_title(run))
            console.print(run_overview(run, run.summary(), run.artifacts(), rows))
            for picture in images.image_artifacts(run):
                try:
                    images.reflow_tiles(images.read_image(picture), 80, 20)
                except NnlabError:
                    pass  # refused with a reason: what a bad image must get
            if not run.error:
                query.comparable(run, run.summary())
        query.tree_order(runs, key=lambda r: r.started, reverse=True)
        assert "x[bold]y" in console.file.getvalue()  # the good run's config value, literally


def test_a_26_megabyte_run_json_is_refused_fast(tmp_runs):
    path = tmp_runs / "2026-01-01T00-00-00_kmeans_a1a1a1"
    path.mkdir()
    (path / "run.json").write_text('{"command": "kmeans", "config": {"x": "' + "x" * 26_000_000 + '"}}')
    started = time.perf_counter()
    result = invoke("show", path.name, "--runs-dir", str(tmp_runs))
    assert time.perf_counter() - started < 3
    assert "unreadable" in result.output and "over the 1,000,000" in result.output


def test_a_png_bomb_is_refused_before_decoding(tmp_runs):
    writer = make_run(tmp_runs, image=False)
    bomb = writer.artifact_path("centers.png")
    bomb.write_bytes(png(20_000, 20_000, rows=2))  # 400 megapixels claimed, a few bytes on disk
    started = time.perf_counter()
    result = invoke("show", writer.id, "--images", "halfblock", "--runs-dir", str(tmp_runs))
    assert time.perf_counter() - started < 3
    assert "over the 16,000,000 pixels" in result.output
    bomb.write_bytes(png(5000, 5000, rows=1))  # 25 megapixels: under PIL's own limit, over ours
    assert "5,000 x 5,000 pixels, over the 16,000,000" in invoke("show", writer.id, "--images", "halfblock",
                                                                 "--runs-dir", str(tmp_runs)).output


def test_markup_in_every_string_prints_literally(tmp_runs):
    writer = make_run(tmp_runs, "x[bold]y", config={"[/]": "[red]r[/red]"}, summary={"a[b": 1.5}, image=False)
    writer.update(error="[link=x]boom[/link]")
    out = invoke("show", writer.id, "--runs-dir", str(tmp_runs)).output
    for text in ("x[bold]y", "[/]", "[red]r[/red]", "a[b", "[link=x]boom[/link]"):
        assert text in out
    listed = invoke("list", "--runs-dir", str(tmp_runs)).output
    assert "x[bold]y" in listed


def test_special_files_are_refused_without_being_read(tmp_runs):
    fifo, zero, folder, _ = build_runs(tmp_runs, [replace(spec, artifacts_mode=None) for spec in SPECIAL_EXAMPLE])
    with deadline(10):
        for path in (fifo, zero, folder):
            run = Run.load(path)
            assert run.status == "unreadable" and "not a regular file" in run.error
            assert run.metrics() == [] and run.summary() == {}
            assert series.LogFollower.for_run(run).poll() == []
            assert [p.name for p in run.artifacts()] == ["x[bold]y.png"]  # no FIFO, symlink or folder
