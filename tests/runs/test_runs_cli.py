"""`nnlab runs` through CliRunner: list, show, diff, export, rm, tail, and bad input."""

from __future__ import annotations

import csv
import io
import json
import threading
import time

import pytest
from runfactory import make_corrupt, make_run, make_stale
from typer.testing import CliRunner

from nnlab.cli.app import app

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, ["runs", *args], input=input)


@pytest.fixture
def runs(tmp_runs):
    """Three runs: two kmeans differing in lr (one with a child), one failed ae; plus a corrupt one."""
    a = make_run(tmp_runs, "kmeans", config={"lr": 4.5, "k": 10}, start_time=1000.0)
    b = make_run(tmp_runs, "kmeans", config={"lr": 1.0, "k": 10}, base=2.0, start_time=2000.0)
    child = make_run(tmp_runs, "kmeans trial", config={"lr": 1.0}, parent=b.id, start_time=2001.0, image=False)
    c = make_run(tmp_runs, "ae", config={"lr": 0.1, "latent": 2}, status="failed", start_time=3000.0)
    bad = make_corrupt(tmp_runs)
    return {"a": a, "b": b, "child": child, "c": c, "bad": bad, "root": tmp_runs}


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    return lines[0]


# ---- list ---------------------------------------------------------------------------------

def test_list_shows_runs_children_and_unreadable(runs):
    result = invoke("list", "--runs-dir", str(runs["root"]))
    assert result.exit_code == 0, result.output
    out = result.output
    for key in ("a", "b", "c"):
        assert runs[key].id in out
    assert "└ " + runs["child"].id in out  # child indented under its parent
    assert out.index(runs["b"].id) < out.index(runs["child"].id)
    assert "unreadable" in out and "failed" in out
    assert "test_accuracy" in out  # the key metric


def test_list_json_and_filters(runs):
    result = invoke("list", "--runs-dir", str(runs["root"]), "--json")
    records = json.loads(result.output)
    by_id = {r["id"]: r for r in records}
    assert by_id[runs["child"].id]["depth"] == 1 and by_id[runs["child"].id]["parent"] == runs["b"].id
    assert by_id[runs["a"].id]["key_metric"] == "test_accuracy"
    assert by_id[runs["bad"].name]["status"] == "unreadable" and "unreadable" in by_id[runs["bad"].name]["error"]

    only_ae = json.loads(invoke("list", "--runs-dir", str(runs["root"]), "--json", "--command", "ae").output)
    assert [r["id"] for r in only_ae] == [runs["c"].id]
    failed = json.loads(invoke("list", "--runs-dir", str(runs["root"]), "--json", "--status", "failed").output)
    assert [r["id"] for r in failed] == [runs["c"].id]
    lr = json.loads(invoke("list", "--runs-dir", str(runs["root"]), "--json", "--filter", "lr:4.5").output)
    assert [r["id"] for r in lr] == [runs["a"].id]


def test_list_csv(runs):
    result = invoke("list", "--runs-dir", str(runs["root"]), "--csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 5 and {"id", "status", "key_metric", "duration_s"} <= set(rows[0])


def test_list_bad_status_and_empty(runs, tmp_path):
    one_line_error(invoke("list", "--runs-dir", str(runs["root"]), "--status", "done"))
    result = invoke("list", "--runs-dir", str(tmp_path / "none"))
    assert result.exit_code == 0 and "no runs under" in result.output


def test_stale_running_run(tmp_runs):
    writer = make_run(tmp_runs, status="running")
    out = json.loads(invoke("list", "--runs-dir", str(tmp_runs), "--json").output)
    assert out[0]["status"] == "running"
    make_stale(writer)
    out = json.loads(invoke("list", "--runs-dir", str(tmp_runs), "--json").output)
    assert out[0]["status"] == "stale" and "is gone" in out[0]["error"]


# ---- show ---------------------------------------------------------------------------------

def test_show_text_and_json(runs):
    result = invoke("show", runs["a"].id[-6:], "--runs-dir", str(runs["root"]))
    assert result.exit_code == 0, result.output
    for word in ("config", "lr", "4.5", "summary", "test_accuracy", "artifacts", "centers.png"):
        assert word in result.output
    data = json.loads(invoke("show", runs["a"].id, "--runs-dir", str(runs["root"]), "--json").output)
    assert data["config"] == {"lr": 4.5, "k": 10}
    assert "artifacts/centers.png" in data["artifacts"]
    assert data["last_metrics"]["test/loss"] == pytest.approx(1.0 / 12 * 1.2)


def test_show_images_and_unreadable(runs):
    drawn = invoke("show", runs["a"].id, "--runs-dir", str(runs["root"]), "--images", "halfblock")
    assert drawn.exit_code == 0 and "▀" in drawn.output and "centers.png" in drawn.output
    # auto, and stdout is not a terminal: one line naming each PNG instead of blocks
    pointed = invoke("show", runs["a"].id, "--runs-dir", str(runs["root"]), "--images", "auto")
    assert pointed.exit_code == 0 and "▀" not in pointed.output
    assert str(runs["a"].path / "artifacts" / "centers.png") in pointed.output
    one_line_error(invoke("show", runs["a"].id, "--runs-dir", str(runs["root"]), "--images", "bogus"))
    bad = invoke("show", str(runs["bad"]), "--runs-dir", str(runs["root"]))
    assert bad.exit_code == 0 and "unreadable" in bad.output and "run.json" in bad.output


def test_show_unknown_run_is_one_line(runs):
    line = one_line_error(invoke("show", "nosuchrun", "--runs-dir", str(runs["root"])))
    assert "nosuchrun" in line


# ---- diff ---------------------------------------------------------------------------------

def test_diff_shows_only_differing_keys(runs):
    result = invoke("diff", runs["a"].id, runs["b"].id, "--runs-dir", str(runs["root"]), "--json")
    diff = json.loads(result.output)["differences"]
    assert diff["config.lr"] == [4.5, 1.0]
    assert "config.k" not in diff and "command" not in diff
    assert "summary.test_loss" in diff
    text = invoke("diff", runs["a"].id, runs["b"].id, "--runs-dir", str(runs["root"]), "--config-only").output
    assert "config.lr" in text and "config.k " not in text and "summary" not in text


def test_diff_bad_input(runs):
    one_line_error(invoke("diff", runs["a"].id, "--runs-dir", str(runs["root"])))
    one_line_error(invoke("diff", runs["a"].id, "nope", "--runs-dir", str(runs["root"])))
    one_line_error(invoke("diff", runs["a"].id, str(runs["bad"]), "--runs-dir", str(runs["root"])))


# ---- export -------------------------------------------------------------------------------

def test_export_long_csv(runs, tmp_path):
    result = invoke("export", runs["a"].id, runs["b"].id, "--csv", "--runs-dir", str(runs["root"]))
    rows = list(csv.DictReader(io.StringIO(result.output)))
    per_run = 3 * 4 + 3 * 3  # steps + epoch records
    assert len(rows) == 2 * per_run
    assert set(rows[0]) == {"run", "command", "step", "epoch", "split", "name", "value", "time"}
    out = tmp_path / "m.csv"
    result = invoke("export", runs["a"].id, "-o", str(out), "--runs-dir", str(runs["root"]))
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == per_run + 1
    one_line_error(invoke("export", "nope", "--runs-dir", str(runs["root"])))


# ---- rm -----------------------------------------------------------------------------------

def test_rm_asks_first(runs):
    root = runs["root"]
    result = invoke("rm", runs["a"].id, "--runs-dir", str(root), input="n\n")
    assert result.exit_code == 1 and runs["a"].path.exists() and "nothing deleted" in result.output
    result = invoke("rm", runs["a"].id, "--runs-dir", str(root), input="y\n")
    assert result.exit_code == 0 and not runs["a"].path.exists()
    result = invoke("rm", runs["c"].id, str(runs["bad"]), "--yes", "--runs-dir", str(root))
    assert result.exit_code == 0 and not runs["c"].path.exists() and not runs["bad"].exists()
    one_line_error(invoke("rm", "nope", "--yes", "--runs-dir", str(root)))


def test_rm_refuses_a_live_run(tmp_runs):
    writer = make_run(tmp_runs, status="running")  # this test's own process: alive
    line = one_line_error(invoke("rm", writer.id, "--yes", "--runs-dir", str(tmp_runs)))
    assert "still running" in line and "stop it first" in line and str(writer.info["pid"]) in line
    assert writer.path.exists()
    assert invoke("rm", writer.id, "--yes", "--force", "--runs-dir", str(tmp_runs)).exit_code == 2  # no override
    assert writer.path.exists()
    make_stale(writer)  # its process is gone: now it may go
    assert invoke("rm", writer.id, "--yes", "--runs-dir", str(tmp_runs)).exit_code == 0 and not writer.path.exists()


def test_rm_deletes_only_run_folders_directly_under_the_root(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = make_run(root, image=False)
    keep = tmp_path / "precious.txt"
    keep.write_text("the user's file")
    outside = tmp_path / "elsewhere"  # a run folder outside the root
    (outside / "artifacts").mkdir(parents=True)
    (outside / "run.json").write_text(run.path.joinpath("run.json").read_text())
    (root / "src").mkdir()  # a folder under the root that is no run
    (root / "2026-01-01T00-00-00_link_abcdef").symlink_to(outside, target_is_directory=True)
    refs = [str(root / ".."), str(root), str(outside), str(root / "src"), "src",
            str(root / "2026-01-01T00-00-00_link_abcdef"), str(root / ".." / "runs" / run.id), ""]
    for ref in refs:
        line = one_line_error(invoke("rm", ref, "--yes", "--runs-dir", str(root)))
        assert "Traceback" not in line
    monkeypatch.chdir(root)  # the runs root is the current folder: `.` must not empty it
    one_line_error(invoke("rm", ".", "--yes", "--runs-dir", "."))
    one_line_error(invoke("rm", "", "--yes", "--runs-dir", "."))
    assert keep.read_text() == "the user's file" and outside.joinpath("run.json").exists()
    assert (root / "src").is_dir() and run.path.is_dir() and (root / "2026-01-01T00-00-00_link_abcdef").is_symlink()
    assert invoke("rm", run.id, "--yes", "--runs-dir", ".").exit_code == 0 and not run.path.exists()


def test_export_never_overwrites_a_run_file_or_an_existing_file(runs, tmp_path):
    root, run = runs["root"], runs["a"]
    metrics = run.path / "metrics.jsonl"
    before = metrics.read_bytes()
    for target in (metrics, run.path / "run.json", run.path / "artifacts" / "new.csv", root / "all.csv"):
        line = one_line_error(invoke("export", run.id, "-o", str(target), "--force", "--runs-dir", str(root)))
        assert "refusing" in line
    assert metrics.read_bytes() == before and not (root / "all.csv").exists()
    out = tmp_path / "m.csv"
    out.write_text("keep me")
    assert "--force" in one_line_error(invoke("export", run.id, "-o", str(out), "--runs-dir", str(root)))
    assert out.read_text() == "keep me"
    assert invoke("export", run.id, "-o", str(out), "--force", "--runs-dir", str(root)).exit_code == 0
    assert out.read_text().startswith("run,command,step") and sorted(p.name for p in tmp_path.iterdir()) == ["m.csv", "runs"]


def test_export_force_never_replaces_a_device_fifo_or_folder(runs, tmp_path):
    """`-o /dev/null --force` once renamed a regular file over the device node itself."""
    import os
    import stat

    root, run = runs["root"], runs["a"]
    fifo, devlink, folder = tmp_path / "pipe", tmp_path / "null", tmp_path / "dir"
    os.mkfifo(fifo)
    devlink.symlink_to("/dev/null")  # the real device, reached through a link (as /dev/stdout is)
    folder.mkdir()
    for target in (fifo, devlink, folder, tmp_path / "missing" / "x.csv"):
        line = one_line_error(invoke("export", run.id, "-o", str(target), "--force", "--runs-dir", str(root)))
        assert str(target) in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and os.readlink(devlink) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and not list(folder.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ---- tail ---------------------------------------------------------------------------------

def test_tail_finished_run(runs):
    result = invoke("tail", runs["a"].id, "-n", "3", "--runs-dir", str(runs["root"]))
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 4 and "test accuracy" in lines[-2] and "completed" in lines[-1]


def test_tail_follows_a_running_run(tmp_runs):
    writer = make_run(tmp_runs, status="running", epochs=1, steps=1)

    def train_more():
        time.sleep(0.3)
        writer.log_metric("loss", 0.125, step=99, epoch=2, split="train")
        time.sleep(0.2)
        writer.finish("completed")

    thread = threading.Thread(target=train_more)
    thread.start()
    result = invoke("tail", writer.id, "--interval", "0.05", "--runs-dir", str(tmp_runs))
    thread.join()
    assert result.exit_code == 0, result.output
    assert "step 99 train loss 0.125" in result.output and "completed" in result.output


def test_tail_ctrl_c_exits_cleanly(tmp_runs, monkeypatch):
    writer = make_run(tmp_runs, status="running")

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupt)
    result = invoke("tail", writer.id, "--runs-dir", str(tmp_runs))
    assert result.exit_code == 130 and "stopped following" in result.output and "Traceback" not in result.output
    one_line_error(invoke("tail", "nope", "--runs-dir", str(tmp_runs)))


def console_run(root, lines: int):
    """A running run that printed `lines` lines through the console recorder (so into console.log)."""
    from rich.console import Console

    from nnlab.runs.store import RunStore
    from nnlab.view.console import ConsoleRecorder

    store = RunStore(root)
    rec = ConsoleRecorder(store.create("kmeans", {}), store, Console(file=io.StringIO(), width=100))
    for i in range(lines):
        rec.info(f"line {i} [bold]x[/]")
    rec.metric("loss", 0.5, step=1, epoch=1, split="train")
    return rec


def test_tail_prints_what_the_run_printed(tmp_runs):
    rec = console_run(tmp_runs, 12)
    rec.run.finish("completed")
    lines = invoke("tail", rec.run.id, "-n", "3", "--runs-dir", str(tmp_runs)).output.strip().splitlines()
    assert lines == ["line 9 x", "line 10 x", "line 11 x", f"run {rec.run.id} is completed"]
    metrics = invoke("tail", rec.run.id, "--metrics", "--runs-dir", str(tmp_runs)).output
    assert "epoch 1 step 1 train loss 0.5" in metrics and "line 11" not in metrics


def test_tail_follows_the_console_log_of_a_running_run(tmp_runs):
    rec = console_run(tmp_runs, 2)

    def print_more():
        time.sleep(0.3)
        rec.info("epoch 2 done")
        time.sleep(0.2)
        rec.run.finish("completed")

    thread = threading.Thread(target=print_more)
    thread.start()
    result = invoke("tail", rec.run.id, "--interval", "0.05", "--runs-dir", str(tmp_runs))
    thread.join()
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[:3] == ["line 0 x", "line 1 x", "epoch 2 done"] and "completed" in lines[-1]
