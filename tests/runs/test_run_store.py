"""The run store's on-disk contract: layout, atomic JSON, append-only metrics, final status."""

from __future__ import annotations

import json

import pytest

from nnlab.errors import NnlabError
from nnlab.runs.store import RunStore, read_metrics_file


def test_a_completed_run_has_the_documented_layout(tmp_runs):
    store = RunStore(tmp_runs)
    with store.create("kmeans", {"k": 10}, argv=["nnlab", "kmeans"], seed=3, device="cpu") as writer:
        writer.log_metric("loss", 0.5, step=1, epoch=1, split="train")
        writer.set_summary({"accuracy": 0.9})
        writer.artifact_path("centers.png").write_bytes(b"png")
    run = store.get(writer.id)
    assert sorted(p.name for p in run.path.iterdir()) == ["artifacts", "metrics.jsonl", "run.json", "summary.json"]
    info = json.loads((run.path / "run.json").read_text())
    for key in ("command", "argv", "config", "seed", "status", "start", "end", "versions", "device", "host"):
        assert key in info
    assert info["status"] == "completed" and info["seed"] == 3 and info["versions"]["python"]
    assert run.metrics() == [{"step": 1, "epoch": 1, "split": "train", "name": "loss", "value": 0.5,
                              "time": run.metrics()[0]["time"]}]
    assert run.summary() == {"accuracy": 0.9} and [a.name for a in run.artifacts()] == ["centers.png"]


def test_interrupt_and_failure_are_recorded(tmp_runs):
    store = RunStore(tmp_runs)
    with pytest.raises(KeyboardInterrupt):
        with store.create("ae", {}) as writer:
            writer.log_metric("loss", 1.0)
            raise KeyboardInterrupt
    run = store.get(writer.id)
    assert run.status == "interrupted" and len(run.metrics()) == 1 and run.info["end_time"]
    with pytest.raises(ValueError):
        with store.create("ae", {}) as failed:
            raise ValueError("boom")
    assert store.get(failed.id).status == "failed" and "boom" in store.get(failed.id).info["error"]


def test_half_written_runs_are_listed_with_a_reason(tmp_runs):
    store = RunStore(tmp_runs)
    (tmp_runs / "2026-01-01T00-00-00_kmeans_aaaaaa").mkdir()
    (tmp_runs / "2026-01-02T00-00-00_kmeans_bbbbbb").mkdir()
    (tmp_runs / "2026-01-02T00-00-00_kmeans_bbbbbb" / "run.json").write_text('{"command": "km')
    runs = store.runs()
    assert [r.status for r in runs] == ["unreadable", "unreadable"]
    assert "missing" in runs[0].error and "unreadable" in runs[1].error


def test_a_metrics_line_cut_short_is_skipped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"name": "loss", "value": 1}\n{"name": "loss", "val')
    assert read_metrics_file(path) == [{"name": "loss", "value": 1}]


def test_get_by_prefix_suffix_latest_and_errors(tmp_runs):
    store = RunStore(tmp_runs)
    with pytest.raises(NnlabError, match="no runs"):
        store.get("latest")
    first = store.create("kmeans", {})
    first.finish("completed")
    second = store.create("ae", {})
    second.finish("completed")
    assert store.get("latest").id == second.id
    (tmp_runs / "9999-01-01T00-00-00_broken_cccccc").mkdir()  # newest by name, but half-written
    assert store.get("latest").id == second.id
    assert store.get(first.id[-6:]).id == first.id
    assert store.get(str(first.path)).id == first.id
    with pytest.raises(NnlabError, match="no run matches"):
        store.get("zzz")


def test_unwritable_runs_dir_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NnlabError, match="--runs-dir") as info:
        RunStore(blocker / "runs").create("kmeans", {})
    assert info.value.exit_code == 2
