"""`nnlab cnn`, `nnlab mlp`, `nnlab mlp tune` and `nnlab landscape` end to end on tiny IDX data."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.runs.store import RunStore

runner = CliRunner()
CPU = ["--device", "cpu", "--seed", "0"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def succeeds(idx_data_dir, tmp_runs):
    """Run a command on the tiny data on the CPU with --json; it must exit 0. Gives its JSON and its result."""
    def run(*args):
        res = invoke(*args, "--data-dir", idx_data_dir, "--runs-dir", tmp_runs, *CPU, "--json")
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout), res
    return run


def only_run(runs: Path, command: str):
    found = [r for r in RunStore(runs).runs() if r.command == command]
    assert len(found) == 1, [r.command for r in RunStore(runs).runs()]
    return found[0]


def test_cnn_writes_filters_confusion_and_errors(succeeds, tmp_runs):
    out, _ = succeeds("cnn", "--epochs", 1)
    assert 0 <= out["test_acc"] <= 1 and len(out["confusion"]) == 10
    assert sum(map(sum, out["confusion"])) == 50  # every test image counted once
    run = only_run(tmp_runs, "cnn")
    names = {p.name for p in run.artifacts()}
    assert {"filters.png", "confusion.png", "confusion.csv", "per_class_accuracy.csv", "model.pt"} <= names
    assert ("misclassified.png" in names) == (out["misclassified"] > 0)
    assert run.status == "completed" and run.summary()["test_acc"] == out["test_acc"]


def test_mlp_prints_last_twenty_losses_and_test_accuracy(idx_data_dir, tmp_runs):
    res = invoke("mlp", "--epochs", 2, "--batch-size", 16, "--data-dir", idx_data_dir, "--runs-dir", tmp_runs, *CPU)
    assert res.exit_code == 0, res.output
    assert "last 20 SGD iterations" in res.output and "test accuracy" in res.output
    run = only_run(tmp_runs, "mlp")
    rows = list(csv.reader(open(run.path / "artifacts" / "last_losses.csv")))
    assert len(rows) == 21 and rows[-1][0] == "24"  # 180 training images / 16 -> 12 steps an epoch
    assert {m["split"] for m in run.metrics()} >= {"train", "val"}
    assert "test" not in {m["split"] for m in run.metrics()}  # the test set steers nothing during training


def test_mlp_preset_best_trains_and_records_its_resolved_recipe(succeeds, tmp_runs):
    out, _ = succeeds("mlp", "--preset", "best", "--epochs", 2, "--units", 64)
    assert 0 <= out["test_acc"] <= 1 and out["seconds_per_epoch"] > 0
    config = only_run(tmp_runs, "mlp").config
    assert (config["preset"], config["units"], config["layers"], config["epochs"]) == ("best", 64, 2, 2)
    assert config["schedule"] == "onecycle" and config["tta"] and config["shift"] == 1 and config["nesterov"]


def test_mlp_help_lists_the_best_preset():
    res = invoke("mlp", "--help")
    text = " ".join(res.output.replace("│", " ").split())
    assert res.exit_code == 0 and "best: nnlab's best fully connected network" in text
    assert "units 1024" in text and "50; best: 1024" in text


def test_a_diverging_mlp_stops_with_one_line(idx_data_dir, tmp_runs):
    res = invoke("mlp", "--lr", 100, "--momentum", 0, "--epochs", 3, "--batch-size", 16, "--data-dir", idx_data_dir,
                 "--runs-dir", tmp_runs, *CPU)
    assert res.exit_code == 2, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("error: training diverged") and "lower --lr" in last, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("command, said", [
    (["cnn"], ["prob4_CNN.py is not in the seeds", "conv 1→40 5x5", "Adam at 1e-3, batch 64"]),
    (["adam"], ["figure is missing", "triangle h high and 2h wide"]),
    (["adam", "escape"], ["figure is missing", "escape once x reaches the peak L + h"]),
])
def test_help_states_what_was_assumed(command, said):
    res = invoke(*command, "--help")
    text = " ".join(res.output.replace("│", " ").split())
    assert res.exit_code == 0 and all(s in text for s in said), text


def test_tune_records_trials_as_children_and_retrains(succeeds, tmp_runs):
    out, _ = succeeds("mlp", "tune", "--trials", 3, "--sampler", "grid", "--layers", "1", "--units", "4,8",
                      "--lr", "0.05,0.1", "--batch-size", "64", "--epochs", "1", "--l2", "0")
    assert out["completed_trials"] == 3 and sorted(out["my_trials"]) == [0, 1, 2]
    assert 0 <= out["test_acc"] <= 1
    sweep = only_run(tmp_runs, "mlp tune")
    children = [r for r in RunStore(tmp_runs).runs() if r.command == "mlp tune trial"]
    assert len(children) == 3 and all(c.parent == sweep.id for c in children)
    assert sorted(c.summary()["trial"] for c in children) == [0, 1, 2]
    assert len({(c.config["units"], c.config["lr"]) for c in children}) == 3  # the grid never repeats
    assert (sweep.path / "artifacts" / "trials.csv").exists()


def test_a_diverging_trial_is_pruned_as_diverged_and_the_sweep_completes(succeeds, tmp_runs):
    """Plain SGD at lr 100 blows the loss up to NaN: that trial is pruned, marked, and still counts."""
    out, res = succeeds("mlp", "tune", "--trials", 2, "--sampler", "grid", "--layers", "3", "--units", "16",
                        "--lr", "0.05,100", "--batch-size", "16", "--epochs", "2", "--l2", "0")
    assert out["completed_trials"] == 1 and len(out["diverged_trials"]) == 1
    assert out["best_params"]["lr"] == 0.05 and 0 <= out["test_acc"] <= 1
    sweep = only_run(tmp_runs, "mlp tune")
    children = {c.config["lr"]: c for c in RunStore(tmp_runs).runs() if c.command == "mlp tune trial"}
    assert set(children) == {0.05, 100.0} and children[100.0].status == "completed"
    summary = children[100.0].summary()
    assert summary["diverged"] is True and "became nan" in summary["reason"].lower()
    assert "val_acc" not in summary and children[0.05].summary()["val_acc"] >= 0
    epochs_run = {m["epoch"] for m in children[100.0].metrics() if m["split"] == "train"}
    assert epochs_run == {1}  # it stopped at once instead of training on NaN weights
    rows = list(csv.DictReader(open(sweep.path / "artifacts" / "trials.csv")))
    assert sorted(r["state"] for r in rows) == ["complete", "diverged"]
    assert "diverged" in res.stderr


def test_two_workers_share_one_sqlite_study(idx_data_dir, tmp_path):
    """Two processes on one SQLite study: together they finish exactly --trials trials, none twice."""
    db = tmp_path / "tune.db"
    args = [sys.executable, "-m", "nnlab", "mlp", "tune", "--trials", "6", "--sampler", "grid", "--layers", "1,2",
            "--units", "4,8,16", "--lr", "0.1", "--batch-size", "32", "--epochs", "1", "--l2", "0", "--no-retrain",
            "--storage", f"sqlite:///{db}", "--study-name", "shared", "--data-dir", str(idx_data_dir),
            "--runs-dir", str(tmp_path / "runs"), "--device", "cpu", "--json"]
    env = {**os.environ, "COLUMNS": "100"}
    workers = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(2)]
    outputs = [w.communicate(timeout=240) for w in workers]
    for worker, (stdout, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr
    mine = [json.loads(stdout)["my_trials"] for stdout, _ in outputs]
    assert sorted(mine[0] + mine[1]) == list(range(6))  # split between them, none lost, none run twice

    import optuna

    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{db}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 6 and len({tuple(sorted(t.params.items())) for t in complete}) == 6


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_in_tune_keeps_the_run_without_an_optuna_traceback(idx_data_dir, tmp_path, signum, code):
    """A real Ctrl-C (or SIGTERM) mid-trial: one line, no Optuna log, the sweep and its trial kept as interrupted."""
    runs = tmp_path / "runs"
    args = [sys.executable, "-m", "nnlab", "mlp", "tune", "--trials", "5", "--sampler", "random", "--layers", "1",
            "--units", "4", "--lr", "0.05", "--batch-size", "16", "--epochs", "100000", "--l2", "0",
            "--data-dir", str(idx_data_dir), "--runs-dir", str(runs), "--device", "cpu"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "100"})
    try:
        deadline = time.monotonic() + 120
        while not [r for r in RunStore(runs).runs() if r.command == "mlp tune trial" and r.metrics()]:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
            time.sleep(0.2)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    output = stdout + stderr
    assert "Traceback" not in output and "Trial 0" not in output and "interrupted:" in output, output
    sweep = only_run(runs, "mlp tune")
    trial = only_run(runs, "mlp tune trial")
    assert sweep.status == "interrupted" and trial.status == "interrupted" and trial.parent == sweep.id
    assert trial.metrics()  # what the trial had trained is kept


def test_landscape_writes_surface_contour_and_path(succeeds, tmp_runs):
    out, _ = succeeds("landscape", "--subset", 120, "--epochs", 2, "--grid", 7)
    assert len(out["explained_variance"]) == 2 and 0 < sum(out["explained_variance"]) <= 1 + 1e-6
    assert out["grid_points_per_s"] > 0 and out["path_end_loss"] < out["path_start_loss"]
    run = only_run(tmp_runs, "landscape")
    assert {"surface.png", "contour.png", "surface.csv", "path.csv"} <= {p.name for p in run.artifacts()}
    assert len(list(csv.reader(open(run.path / "artifacts" / "surface.csv")))) == 1 + 7 * 7
    assert out["z"] == "f_CE" and out["plane_origin"] == "path mean"


def test_landscape_log_z(succeeds):
    out, _ = succeeds("landscape", "--log-z", "--subset", 60, "--epochs", 1, "--grid", 3)
    assert out["z"] == "log10 f_CE"


def test_landscape_random_directions(succeeds):
    out, _ = succeeds("landscape", "--directions", "random", "--subset", 60, "--epochs", 1, "--grid", 3)
    window = out["window"]
    assert window[0][0] <= -1 and window[0][1] >= 1  # at least one weight norm each way


def test_missing_data_leaves_no_run(tmp_path, tmp_runs):
    res = invoke("cnn", "--no-fallback", "--data-dir", tmp_path / "empty", "--runs-dir", tmp_runs, "--device", "cpu")
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert not RunStore(tmp_runs).runs()
