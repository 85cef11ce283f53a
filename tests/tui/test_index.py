"""The runs index (nnlab/runs/index.py): a fast first answer, corrected against the files, never trusted blindly."""

from __future__ import annotations

import json
import os

import pytest
from runfactory import make_corrupt, make_run
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.runs import index
from nnlab.runs.store import RunStore


def test_the_index_is_built_then_used_without_reading_run_files(tmp_runs, monkeypatch):
    a = make_run(tmp_runs, "kmeans", config={"lr": 4.5, "net": {"k": 10}, "sizes": [1, 2]}, image=False)
    b = make_run(tmp_runs, "ae", image=False, summary={"test_loss": 0.25})
    make_corrupt(tmp_runs)
    store = RunStore(tmp_runs)
    first = index.read(store)
    assert (tmp_runs / index.INDEX_FILE).is_file()
    runs = {r.id: r for r in first.runs()}
    assert runs[a.id].command == "kmeans" and runs[a.id].config == {"lr": 4.5, "net.k": 10, "sizes": "[1, 2]"}
    assert first.summaries()[b.id] == {"test_loss": 0.25}
    assert sum(1 for r in runs.values() if r.error) == 1

    def no_reading(path):
        raise AssertionError(f"read {path} although the index knows it")
    monkeypatch.setattr(index.Entry, "read", staticmethod(no_reading))
    again = index.load(store)
    assert {r.id for r in again.runs()} == set(runs) and again.summaries() == first.summaries()


def test_refresh_sees_changed_new_and_removed_runs(tmp_runs):
    running = make_run(tmp_runs, "cnn", status="running", image=False)
    gone = make_run(tmp_runs, "mlp", image=False)
    store = RunStore(tmp_runs)
    index.read(store)
    running.set_summary({"test_accuracy": 0.75})
    running.finish("completed")
    new = make_run(tmp_runs, "ae", image=False)
    store.remove(store.get(gone.id))
    known = index.load(store)
    assert new.id in known.entries and gone.id not in known.entries
    changed, summaries = index.refresh(known)
    assert [r.id for r in changed] == [running.id] and changed[0].status == "completed"
    assert summaries == {running.id: {"test_accuracy": 0.75}}
    assert index.load(store).entries[running.id].info["status"] == "completed"  # saved


@pytest.mark.parametrize("planted", [
    '{"version": 1, "runs": {"NAME": {"info": {"command": 7}, "error": null, "key": {}, "sig": [null, null]}}}',
    '{"version": 1, "runs": {"NAME": {"info": {"config": {"a": {"b": {}}}}, "error": null, "key": {}, "sig": [1, 2]}}}',
    '{"version": 1, "runs": {"NAME": {"info": {"pid": [[[[1]]]]}, "error": null, "key": {"x": []}, "sig": [1, 2]}}}',
    "[" * 100_000, '{"version": 1, "runs": []}', "\xff\xfe", '{"version": 99, "runs": {}}',
])
def test_a_planted_or_broken_index_is_ignored(tmp_runs, planted):
    run = make_run(tmp_runs, "kmeans", image=False)
    (tmp_runs / index.INDEX_FILE).write_text(planted.replace("NAME", run.id), encoding="utf-8", errors="surrogateescape")
    known = index.read(RunStore(tmp_runs))
    assert known.entries[run.id].info["command"] == "kmeans"  # read from the run's own files


def test_a_read_only_root_is_listed_without_an_index(tmp_runs):
    make_run(tmp_runs, "kmeans", image=False)
    os.chmod(tmp_runs, 0o555)
    try:
        known = index.read(RunStore(tmp_runs))
        if os.access(tmp_runs, os.W_OK):  # root ignores permissions: nothing more to see
            return
        assert len(known.runs()) == 1 and not (tmp_runs / index.INDEX_FILE).exists()
    finally:
        os.chmod(tmp_runs, 0o755)


def test_runs_list_reads_through_the_index_and_stays_correct(tmp_runs):
    run = make_run(tmp_runs, "cnn", status="running", image=False)
    make_run(tmp_runs, "kmeans", image=False, summary={"test_accuracy": 0.5})
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--json"]).output)
    assert {r["command"]: r["status"] for r in listed} == {"cnn": "running", "kmeans": "completed"}
    assert (tmp_runs / index.INDEX_FILE).is_file()
    run.finish("failed", "boom")
    listed = json.loads(runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--json"]).output)
    by_command = {r["command"]: r for r in listed}
    assert by_command["cnn"]["status"] == "failed" and by_command["kmeans"]["key_value"] == 0.5
    text = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--filter", "lr:0.1"]).output
    assert "2 run(s)" in text  # the filter sees the indexed (flattened) config
