"""`nnlab cifar` as a user runs it: one run, the subset study, torchrun with 2 gloo ranks, bad input."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cifar_files import FOLDER, Evil, one_thread, write_cifar_folder  # noqa: F401 (a fixture)
from nnlab.cli.app import app
from usage import assert_refused
from nnlab.runs.store import RunStore

runner = CliRunner()
TINY = ["--device", "cpu", "--epochs", "1", "--batch-size", "20", "--widths", "8,16,16"]
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def cifar_dir(tmp_path):
    return write_cifar_folder(tmp_path / "data", n_train=100, n_test=50)


def invoke(cifar_dir, runs, *args):
    return runner.invoke(app, ["cifar", *TINY, "--data-dir", str(cifar_dir), "--runs-dir", str(runs), *args])


def test_one_run_writes_curves_confusion_and_summary(cifar_dir, tmp_runs):
    res = invoke(cifar_dir, tmp_runs, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert 0 <= out["test_accuracy"] <= 1 and out["world_size"] == 1 and out["train_images"] == 100
    (run,) = RunStore(tmp_runs).runs()
    assert run.status == "completed" and run.config["world_size"] == 1 and run.config["widths"] == [8, 16, 16]
    names = {p.name for p in run.artifacts()}
    assert {"loss.png", "accuracy.png", "confusion.png", "confusion.csv", "per_class.csv", "model.pt"} <= names
    summary = run.summary()
    assert summary["test_accuracy"] == out["test_accuracy"] and len(summary["per_class_accuracy"]) == 10
    curves = {(m["split"], m["name"]) for m in run.metrics() if m["epoch"] == 1}
    assert {("train", "loss"), ("train", "accuracy"), ("test", "loss"), ("test", "accuracy")} <= curves
    assert "CPU estimate: about" in res.stderr and "per-class test accuracy" in res.stderr


def test_subset_study_records_children_and_the_gap_plot(cifar_dir, tmp_runs):
    res = invoke(cifar_dir, tmp_runs, "--subset-per-class", "1,5,all")
    assert res.exit_code == 0, res.output
    runs = RunStore(tmp_runs).runs()
    (study,) = [r for r in runs if r.parent is None]
    children = [r for r in runs if r.parent == study.id]
    assert len(children) == 3 and all(c.status == "completed" for c in children)
    assert sorted(c.summary()["train_images"] for c in children) == [10, 50, 100]
    assert {"generalisation_gap.png", "accuracy_vs_size.png", "subset_study.csv"} <= {p.name for p in study.artifacts()}
    assert study.summary()["sizes"] == [10, 50, 100]
    assert all("confusion.png" in {p.name for p in c.artifacts()} for c in children)


def test_torchrun_two_gloo_ranks_record_one_complete_run(cifar_dir, tmp_runs):
    # the agent's address and gloo's interface on the loopback: without them the ranks look up
    # this host's name, and where it does not resolve (a CI container) they retry for ever
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NNLAB_OFFLINE": "1", "GLOO_SOCKET_IFNAME": "lo"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "--local-addr=127.0.0.1",
           "-m", "nnlab", "cifar", *TINY, "--data-dir", str(cifar_dir), "--runs-dir", str(tmp_runs)]
    # a session of its own, so a hung rendezvous can be ended with every worker it started
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2], start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    done = subprocess.CompletedProcess(cmd, proc.returncode, "", stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = RunStore(tmp_runs).runs()  # only rank 0 wrote a run
    assert run.status == "completed" and run.config["world_size"] == 2
    ranks = run.summary()["ranks"]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["steps"] == ranks[0]["steps"] > 0 and r["images"] == 50 and r["trained"] > 0 for r in ranks)


@pytest.mark.parametrize("args, message", [
    (["--subset-per-class", "0"], "1 to 5000"),
    (["--subset-per-class", "5001"], "1 to 5000"),
    (["--subset-per-class", "1,20"], "--subset-per-class 20: this training set has only 10 images"),
    (["--device", "tpu"], "unknown --device 'tpu'"),
    (["--precision", "fp8"], "--precision"),
    (["--lr", "inf"], "--lr must be a finite number (positive and at most 1000)"),
    (["--max-minutes", "nan"], "--max-minutes must be a finite number"),
    (["--warmup", "1"], "--warmup must be at least 0 and less than 1"),
    (["--translate", "9"], "--translate must be at least 0 and at most 8"),
    (["--widths", "8,2000000000"], "--widths must be 1 to 8 whole numbers from 1 to 4096"),
])
def test_bad_options_get_one_line_exit_2_and_no_run(cifar_dir, tmp_runs, args, message):
    assert_refused(invoke(cifar_dir, tmp_runs, *args), message, tmp_runs)


@pytest.mark.parametrize("damage", ["truncated", "hostile"])
def test_bad_batch_files_get_one_line_and_exit_2(cifar_dir, tmp_runs, tmp_path, damage):
    path = cifar_dir / FOLDER / "data_batch_2"
    marker = tmp_path / "pwned"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:500])
    else:
        path.write_bytes(pickle.dumps({"data": Evil(marker)}, protocol=2))
    res = invoke(cifar_dir, tmp_runs)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert ("corrupt or truncated" if damage == "truncated" else "foreign object") in res.output
    assert not marker.exists()


def test_no_data_is_one_line_and_leaves_no_run(tmp_path, tmp_runs):
    res = invoke(tmp_path / "empty", tmp_runs)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and "cifar" in res.output.lower()
    assert not RunStore(tmp_runs).runs()  # found missing before the run was created
