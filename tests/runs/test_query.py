"""The shared reading layer: key metric, flatten, diff, filter, tree order, curves, follower, images."""

from __future__ import annotations

import numpy as np
import pytest
from runfactory import grid_png, make_corrupt, make_run

from nnlab.errors import NnlabError
from nnlab.runs import images, query, series
from nnlab.runs.store import Run, RunStore


def test_key_metric_prefers_test_accuracy_then_network_then_loss():
    assert query.key_metric({"train_loss": 0.1, "test_loss": 0.2, "test_accuracy": 0.9}) == ("test_accuracy", 0.9)
    kmeans = {"network_accuracy": 0.38, "lloyd_accuracy": 0.55, "test_loss": 0.05}
    assert query.key_metric(kmeans)[0] == "network_accuracy"
    assert query.key_metric({"train_loss": 1.0, "test_loss": 2.0})[0] == "test_loss"
    assert query.key_metric({"flag": True, "name": "x"}) is None


def test_flatten_and_diff():
    assert query.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [1, 2], "f": {}}) == {"a.b": 1, "a.c.d": 2, "e": [1, 2], "f": {}}
    rows = [{"x": 1, "y": 2}, {"x": 1, "y": 3, "z": 0}]
    diff = dict(query.diff(rows))
    assert set(diff) == {"y", "z"} and diff["z"][0] is query.MISSING


def test_filter_terms(tmp_runs):
    make_run(tmp_runs, "kmeans", config={"lr": 4.5, "init": "random"}, image=False)
    make_run(tmp_runs, "ae", config={"lr": 0.1, "opt": {"name": "adam"}}, status="failed", image=False)
    runs = RunStore(tmp_runs).runs()

    def ids(text):
        return sorted(r.command for r in runs if query.parse_filter(text)(r))

    assert ids("") == ["ae", "kmeans"]
    assert ids("command:kmeans") == ["kmeans"]
    assert ids("status:failed") == ["ae"]
    assert ids("lr:4.5") == ["kmeans"]
    assert ids("name:adam") == ["ae"]  # nested config key by its last part
    assert ids("random") == ["kmeans"]
    assert ids("command:ae random") == []
    assert [r.command for r in query.select(runs, command="kmeans")] == ["kmeans"]


def test_filters_match_exactly_and_globs_are_explicit(tmp_runs):
    make_run(tmp_runs, "ae", config={"latent": 2, "lr": 0.1}, image=False)
    make_run(tmp_runs, "ae", config={"latent": 32, "lr": 0.01}, image=False)
    make_run(tmp_runs, "ae cluster", config={"latent": 2}, image=False)
    runs = RunStore(tmp_runs).runs()

    def found(text="", command=None):
        return sorted((r.command, r.config["latent"]) for r in query.select(runs, command=command, text=text))

    assert found("latent:2") == [("ae", 2), ("ae cluster", 2)]  # not 32
    assert found("latent:*2") == [("ae", 2), ("ae", 32), ("ae cluster", 2)]
    assert found("lr:0.10") == [("ae", 2)]  # a number matches its value
    assert found(command="ae") == [("ae", 2), ("ae", 32)]  # not `ae cluster`
    assert found(command="ae*") == [("ae", 2), ("ae", 32), ("ae cluster", 2)]
    assert found(command="ae cluster") == [("ae cluster", 2)]
    assert found("command:ae*") == found(command="ae*") and found("command:ae") == found(command="ae")
    assert found("status:complete") == [] and len(found("status:completed")) == 3


def test_tree_order_children_under_parents_and_orphans(tmp_runs):
    parent = make_run(tmp_runs, "sweep", start_time=10.0, image=False)
    make_run(tmp_runs, "sweep trial", parent=parent.id, start_time=11.0, image=False)
    make_run(tmp_runs, "sweep trial", parent="gone", start_time=12.0, image=False)
    make_run(tmp_runs, "other", start_time=20.0, image=False)
    runs = RunStore(tmp_runs).runs()
    order = query.tree_order(runs, key=lambda r: r.started, reverse=True)
    assert [(r.command, d) for r, d in order] == [("other", 0), ("sweep trial", 0), ("sweep", 0), ("sweep trial", 1)]


def test_status_and_duration_for_broken_runs(tmp_runs):
    bad = Run.load(make_corrupt(tmp_runs))
    assert query.status_of(bad) == "unreadable" and "unreadable" in query.status_note(bad)
    missing = Run.load(make_corrupt(tmp_runs, "half", text=None))
    assert "missing" in query.status_note(missing)


def test_curves_per_epoch_and_per_step():
    rows = [{"step": 1, "epoch": 1, "split": "train", "name": "step_loss", "value": 3.0},
            {"step": 2, "epoch": 1, "split": "train", "name": "step_loss", "value": 2.0},
            {"step": 2, "epoch": 1, "split": "train", "name": "loss", "value": 2.5},  # epoch mean
            {"step": 2, "epoch": 1, "split": "test", "name": "loss", "value": 2.6},
            {"step": 2, "epoch": 1, "split": "test", "name": "acc", "value": float("nan")}]
    assert series.curves(rows, "loss", "epoch") == {"train": ([1], [2.5]), "test": ([1], [2.6])}
    assert series.curves(rows, "step_loss", "step")["train"] == ([1, 2], [3.0, 2.0])
    assert series.curves(rows, "loss", "step")["test"] == ([2], [2.6])
    assert series.curves(rows, "acc") == {}
    assert series.metric_names(rows) == ["loss", "acc", "step_loss"]


def test_follower_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"name": "loss", "value": 1}\n{"name": "lo')
    follower = series.MetricsFollower(path)
    assert [r["value"] for r in follower.poll()] == [1]
    assert follower.poll() == []
    with open(path, "a") as fh:
        fh.write('ss", "value": 2}\ngarbage\n')
    assert [r["value"] for r in follower.poll()] == [2]
    assert series.MetricsFollower(tmp_path / "absent").poll() == []


def test_read_image_trims_and_reflows_a_grid(tmp_path):
    pixels = images.read_image(grid_png(tmp_path / "g.png", tiles=10))
    assert pixels.shape == (30, 10 * 36 - 6, 3)  # white margin cut to 1 pixel
    fitted = images.reflow_tiles(pixels, cols=80, rows=40)  # room for two lines of five
    assert fitted.shape[1] < pixels.shape[1] and fitted.shape[0] > pixels.shape[0]
    not_grid = np.zeros((50, 50, 3), np.float32)
    assert images.reflow_tiles(not_grid, 20, 10) is not_grid
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(NnlabError, match="bad.png: not a PNG or JPEG image") as caught:
        images.read_image(tmp_path / "bad.png")
    assert "BytesIO" not in caught.value.message  # not the repr of nnlab's in-memory buffer


def test_wrong_field_types_are_unreadable_and_parent_cycles_still_listed(tmp_runs):
    odd = make_corrupt(tmp_runs, "2026-01-01T00-00-00_x_aaaaaa",
                       text='{"command": 5, "status": 7, "config": "x", "start_time": "yesterday"}')
    run = Run.load(odd)
    assert query.status_of(run) == "unreadable" and "'command' is a int" in run.error
    a = make_run(tmp_runs, "a", image=False)
    b = make_run(tmp_runs, "b", image=False, parent=a.id)
    a.update(parent=b.id)  # a cycle, as only a hand edit could make
    order = query.tree_order(RunStore(tmp_runs).runs())
    assert sorted(r.command for r, _ in order) == ["?", "a", "b"]
