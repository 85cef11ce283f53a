"""`nnlab runs rerun [--check]`: a kmeans run on tiny real-format data reruns and reproduces."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.report.rerun import compare
from nnlab.runs.store import RunStore
from runfactory import make_run


@pytest.fixture
def kmeans_run(tmp_runs, idx_data_dir):
    result = CliRunner().invoke(app, ["kmeans", "--data-dir", str(idx_data_dir), "--epochs", "1", "--no-lloyd",
                                      "--images", "none", "--runs-dir", str(tmp_runs), "--json"])
    assert result.exit_code == 0, result.output
    return RunStore(tmp_runs).get(json.loads(result.stdout)["run_id"])


def _rerun(tmp_runs, ref, *extra):
    return CliRunner().invoke(app, ["runs", "rerun", ref, "--runs-dir", str(tmp_runs), *extra])


def test_kmeans_rerun_reproduces_and_is_linked(tmp_runs, kmeans_run):
    result = _rerun(tmp_runs, kmeans_run.id, "--check", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reproduced"] is True and data["differences"] == []
    new = RunStore(tmp_runs).get(data["run_id"])
    assert new.info["rerun_of"] == kmeans_run.id and new.command == "kmeans"
    assert new.config == kmeans_run.config
    assert new.summary()["network_accuracy"] == kmeans_run.summary()["network_accuracy"]
    plain = _rerun(tmp_runs, kmeans_run.id, "--check")
    assert plain.exit_code == 0 and "reproduced:" in plain.output


def test_a_changed_summary_is_every_difference_and_exit_1(tmp_runs, kmeans_run):
    summary = kmeans_run.summary()
    summary["network_accuracy"] += 0.125
    summary["gone_metric"] = 3
    (kmeans_run.path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    result = _rerun(tmp_runs, kmeans_run.id, "--check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["reproduced"] is False
    assert {d["key"] for d in data["differences"]} == {"network_accuracy", "gone_metric"}
    text = _rerun(tmp_runs, kmeans_run.id, "--check")
    assert text.exit_code == 1 and "not reproduced: 2 summary value(s) differ" in text.output


def test_removed_config_field_and_other_version_say_so(tmp_runs, kmeans_run):
    info = json.loads((kmeans_run.path / "run.json").read_text())
    info["config"]["momentum_of_old"] = 0.5
    info["versions"]["nnlab"] = "0.0.1"
    (kmeans_run.path / "run.json").write_text(json.dumps(info), encoding="utf-8")
    result = _rerun(tmp_runs, kmeans_run.id)
    assert result.exit_code == 2
    assert "recorded by nnlab 0.0.1" in result.output and "momentum_of_old" in result.output
    assert len(RunStore(tmp_runs).runs()) == 1  # nothing was started


def test_unregistered_command_is_one_line(tmp_runs):
    writer = make_run(tmp_runs, "not-a-command")
    result = _rerun(tmp_runs, writer.id)
    assert result.exit_code == 2 and "cannot be re-run" in result.output


def test_compare_skips_timings_and_flags_missing_keys():
    diffs, skipped = compare({"acc": 0.5, "wall_time_s": 3.0, "images_per_second": 10, "n": {"a": 1}},
                             {"acc": 0.5, "wall_time_s": 4.0, "images_per_second": 12, "n": {"a": 2}, "new": 1})
    assert [d["key"] for d in diffs] == ["n.a", "new"] and set(skipped) == {"wall_time_s", "images_per_second"}
