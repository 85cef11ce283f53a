"""The CLI as users meet it: help, version, kmeans, kmeans eta, data, errors (signals: test_process.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.runs.store import RunStore

runner = CliRunner()


def test_help_is_instant_and_grouped():
    code = "import sys, nnlab.cli.app; assert 'torch' not in sys.modules, 'torch imported by --help'"
    subprocess.run([sys.executable, "-c", code], check=True)
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for panel in ("Experiments", "Runs and data"):
        assert panel in result.output
    assert runner.invoke(app, ["--version"]).output.startswith("nnlab ")


def test_kmeans_json_and_the_run_on_disk(idx_data_dir, tmp_runs):
    result = runner.invoke(app, ["kmeans", "--data-dir", str(idx_data_dir), "--runs-dir", str(tmp_runs),
                                 "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["network"]["total"] == 200 and len(payload["network"]["table"]) == 10
    for key in ("accuracy", "nmi", "inertia", "sizes", "dead_centers"):
        assert key in payload["network"] and key in payload["lloyd"]
    run = RunStore(tmp_runs).get(payload["run_id"])
    assert run.status == "completed" and run.info["dataset"] == "mnist" and run.config["epochs"] == 2
    names = {a.name for a in run.artifacts()}
    assert {"centers.png", "initial_centers.png", "network_table.csv", "lloyd_table.csv", "model.pt"} <= names
    csv_rows = (run.path / "artifacts" / "network_table.csv").read_text().splitlines()
    assert len(csv_rows) == 11 and sum(int(v) for row in csv_rows[1:] for v in row.split(",")[1:]) == 200
    epochs = [m for m in run.metrics() if m["name"] == "loss" and m["split"] == "test"]
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert {"network_accuracy", "lloyd_nmi", "test_loss"} <= set(run.summary())


def test_kmeans_offline_without_data_falls_back_loudly(tmp_runs, tmp_path):
    result = runner.invoke(app, ["kmeans", "--data-dir", str(tmp_path / "none"), "--runs-dir", str(tmp_runs),
                                 "--epochs", "1", "--no-lloyd"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "digits" in result.output
    assert RunStore(tmp_runs).get("latest").info["dataset"] == "digits"
    strict = runner.invoke(app, ["kmeans", "--data-dir", str(tmp_path / "none"), "--runs-dir", str(tmp_runs),
                                 "--no-fallback"])
    assert strict.exit_code == 2 and "nnlab data import" in strict.output and "Traceback" not in strict.output


def test_no_images_is_images_none(tmp_runs, tmp_path):
    result = runner.invoke(app, ["kmeans", "--dataset", "digits", "--runs-dir", str(tmp_runs), "--epochs", "1",
                                 "--no-lloyd", "--no-images"], color=True)
    assert result.exit_code == 0, result.output
    run = RunStore(tmp_runs).get("latest")
    assert run.config["images"] == "none"
    assert "▀" not in result.output and f"see {run.path / 'artifacts' / 'centers.png'}" in result.output


@pytest.mark.parametrize("args,needle", [
    (["--init", "bogus"], "--init"), (["--k", "0"], "--k"), (["--batch-size", "0"], "--batch-size"),
    (["--lr", "0"], "--lr"), (["--lr", "-2"], "--lr"), (["--device", "quantum"], "--device"),
    (["--batch-size", "x"], "batch-size"),
])
def test_bad_flags_are_one_line_and_exit_2(args, needle, tmp_runs):
    result = runner.invoke(app, ["kmeans", "--runs-dir", str(tmp_runs), *args])
    assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output
    assert not list(tmp_runs.iterdir())  # refused before any run was created


def test_unwritable_runs_dir(tmp_path):
    (tmp_path / "file").write_text("")
    result = runner.invoke(app, ["kmeans", "--runs-dir", str(tmp_path / "file" / "runs"), "--dataset", "digits"])
    assert result.exit_code == 2 and "--runs-dir" in result.output


def test_main_turns_click_errors_into_one_line():
    proc = subprocess.run([sys.executable, "-m", "nnlab", "kmeans", "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "--bogus" in proc.stderr


def test_eta_prints_and_saves(tmp_runs):
    result = runner.invoke(app, ["kmeans", "eta", "--runs-dir", str(tmp_runs), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert abs(payload["eta_star"] - 4.49) < 0.02 and len(payload["table"]) >= 10
    run = RunStore(tmp_runs).get(payload["run_id"])
    assert {a.name for a in run.artifacts()} == {"eta_curves.png", "eta_star.csv"}
    assert runner.invoke(app, ["kmeans", "eta", "--batch-size", "0"]).exit_code == 2


def test_data_status_and_import(shared_data, tmp_path):
    target = tmp_path / "data"
    result = runner.invoke(app, ["data", "import", str(shared_data), "--data-dir", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert [f["outcome"] for f in json.loads(result.stdout)["files"]] == ["imported"] * 8
    status = json.loads(runner.invoke(app, ["data", "status", "--data-dir", str(target), "--json"]).stdout)
    present = {(f["dataset"], f["checksum_ok"]) for f in status["files"] if f["present"]}
    assert present == {("mnist", True), ("fashion-mnist", True)}


def test_data_import_of_nothing_is_exit_2(tmp_path):
    result = runner.invoke(app, ["data", "import", str(tmp_path), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "no canonical archives" in result.output
