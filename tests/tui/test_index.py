"""The runs index (nnlab/runs/index.py): a fast first answer, corrected against the files, never trusted blindly."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile_runs import build_runs, hostile_runs, nasty_text, odd_numbers, restore_access
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runfactory import make_corrupt, make_run
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.runs import index, query
from nnlab.runs.store import Run, RunStore
from nnlab.view import format as fmt

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
runner = CliRunner()


@contextmanager
def fresh_root():
    """A runs root of its own for one Hypothesis example, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="nnlab-index-"))
    try:
        yield folder / "runs"
    finally:
        restore_access(folder)
        shutil.rmtree(folder)


def test_the_index_is_built_then_used_without_reading_run_files(tmp_runs, monkeypatch):
    a = make_run(tmp_runs, "kmeans", config={"lr": 4.5, "net": {"k": 10}, "sizes": [1, 2]}, image=False)
    b = make_run(tmp_runs, "ae", image=False, summary={"test_loss": 0.25})
    make_corrupt(tmp_runs)
    store = RunStore(tmp_runs)
    first = index.read(store)
    assert (tmp_runs / index.INDEX_FILE).is_file()
    runs = {r.id: r for r in first.runs()}
    assert runs[a.id].command == "kmeans" and runs[a.id].config == {"lr": 4.5, "net.k": 10, "sizes": "[1, 2]"}
    assert runs[a.id].path == tmp_runs / a.id and runs[a.id].info["status"] == "completed" and not runs[a.id].info.get("config")
    assert first.summaries()[b.id] == {"test_loss": 0.25}
    assert sum(1 for r in runs.values() if r.error) == 1

    def no_reading(root, name):
        raise AssertionError(f"read {name} although the index knows it")
    monkeypatch.setattr(index, "read_row", no_reading)
    again = index.load(store)
    assert again.rows == first.rows and again.summaries() == first.summaries()
    assert index.refresh(again) == index.Changes([], [])  # nothing changed: nothing read


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
    assert gone.id in known.rows and new.id not in known.rows  # the index as saved: a first answer
    changes = index.refresh(known)
    assert sorted(r.id for r in changes.runs) == sorted([running.id, new.id]) and changes.removed == [gone.id]
    assert {r.id: r.status for r in changes.runs}[running.id] == "completed"
    assert changes.summaries()[running.id] == {"test_accuracy": 0.75} and set(changes.summaries()) == {running.id, new.id}
    saved = index.load(store).rows
    assert set(saved) == {running.id, new.id} and saved[running.id][1] == "completed"


def valid_index(tmp_runs) -> tuple[Run, dict]:
    """One run and the index document nnlab writes for it."""
    run = make_run(tmp_runs, "kmeans", image=False)
    index.read(RunStore(tmp_runs))
    return run, json.loads((tmp_runs / index.INDEX_FILE).read_text(encoding="utf-8"))


def with_column(key, values):
    return lambda doc: doc["columns"].__setitem__(key, values)


PLANTED = {
    "v1 layout": lambda doc: doc.update(version=1, runs={doc["names"][0]: {"info": {}, "sig": [1, 2]}}),
    "command is a number": lambda doc: doc.update(texts=[7] + doc["texts"][1:]),
    "text position past the end": with_column("command", [10**6]),
    "negative text position": with_column("command", [-1]),
    "text position a float": with_column("status", [1.0]),
    "a bool for a time": with_column("start_time", [True]),
    "a list for a pid": with_column("pid", [[[[1]]]]),
    "a column too short": with_column("host", []),
    "a column missing": lambda doc: doc["columns"].pop("run_mtime"),
    "names not text": lambda doc: doc.update(names=[{"a": 1}]),
    "columns a list": lambda doc: doc.update(columns=[]),
}


@pytest.mark.parametrize("plant", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_index_of_the_wrong_shape_is_ignored(tmp_runs, plant):
    run, doc = valid_index(tmp_runs)
    plant(doc)
    (tmp_runs / index.INDEX_FILE).write_text(json.dumps(doc), encoding="utf-8")
    assert index.stored(tmp_runs) == {}
    assert index.read(RunStore(tmp_runs)).rows[run.id][0] == "kmeans"  # read from the run's own files


@pytest.mark.parametrize("planted", ["[" * 100_000, "\xff\xfe", '{"version": 99, "runs": {}}', "", "null",
                                     '{"version": 2, "names": [], "texts": [], "columns": {}}'])
def test_a_broken_index_is_ignored(tmp_runs, planted):
    run = make_run(tmp_runs, "kmeans", image=False)
    (tmp_runs / index.INDEX_FILE).write_text(planted, encoding="utf-8", errors="surrogateescape")
    assert index.read(RunStore(tmp_runs)).rows[run.id][0] == "kmeans"


def test_an_oversized_or_special_index_is_not_read(tmp_runs, monkeypatch):
    run = make_run(tmp_runs, "kmeans", image=False)
    index.read(RunStore(tmp_runs))
    monkeypatch.setattr(index, "INDEX_CAP", 100)
    assert index.stored(tmp_runs) == {}
    os.replace(tmp_runs / index.INDEX_FILE, tmp_runs / "elsewhere")
    os.mkfifo(tmp_runs / index.INDEX_FILE)  # would hang a plain open()
    assert index.stored(tmp_runs) == {} and index.read(RunStore(tmp_runs)).rows[run.id][0] == "kmeans"


def test_a_planted_config_is_only_an_empty_config(tmp_runs):
    run, doc = valid_index(tmp_runs)
    for planted in ["[" * 100_000, '{"a": {"b": 1}}', "not json", '["a"]']:
        doc["texts"][doc["columns"]["config"][0] - 1] = planted
        (tmp_runs / index.INDEX_FILE).write_text(json.dumps(doc), encoding="utf-8")
        (known,) = index.load(RunStore(tmp_runs)).runs()
        assert known.id == run.id and known.config == {} and query.parse_filter("lr:0.1 words")(known) is False


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
    listed = json.loads(runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--json"]).output)
    assert {r["command"]: r["status"] for r in listed} == {"cnn": "running", "kmeans": "completed"}
    assert (tmp_runs / index.INDEX_FILE).is_file()
    run.finish("failed", "boom")
    listed = json.loads(runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--json"]).output)
    by_command = {r["command"]: r for r in listed}
    assert by_command["cnn"]["status"] == "failed" and by_command["kmeans"]["key_value"] == 0.5
    text = runner.invoke(app, ["runs", "list", "--runs-dir", str(tmp_runs), "--filter", "lr:0.1"]).output
    assert "2 run(s)" in text  # the filter sees the indexed (flattened) config


# ---- Hypothesis: junk for the reader, hostile runs through the index --------------------------

def check_types(rows: dict) -> None:
    """What the reader hands out is what the columns declare, whatever the file held."""
    for name, row in rows.items():
        assert isinstance(name, str) and len(row) == len(index.COLUMNS)
        for value, types in zip(row, index.COLUMNS.values()):
            assert type(value) in ({str, type(None)} if types == "text" else types), (value, types)


json_junk = st.recursive(st.none() | st.booleans() | st.integers() | odd_numbers | nasty_text,
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
                         max_leaves=10)


@SETTINGS
@given(junk=st.binary(max_size=200) | json_junk.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
       where=st.sampled_from([None, "names", "texts", "columns", "command", "start_time", "pid", "config"]))
def test_the_reader_takes_junk_anywhere_without_raising(junk, where):
    with fresh_root() as root:
        run, doc = valid_index(root)
        if where is None:
            data = junk
        else:
            target = doc["columns"] if where in index.COLUMNS else doc
            try:
                target[where] = json.loads(junk)
            except ValueError:
                target[where] = junk.decode("latin-1")
            data = json.dumps(doc).encode("utf-8", "surrogatepass")
        (root / index.INDEX_FILE).write_bytes(data)
        check_types(index.stored(root))
        for known in index.load(RunStore(root)).runs():
            query.status_of(known), query.duration_of(known), query.run_record(known), fmt.format_started(known)
            query.parse_filter("lr:0.1 status:failed word")(known)


def rows_text(rows: dict) -> str:
    return repr(sorted(rows.items()))  # repr: NaN equals itself


@SETTINGS
@given(st.lists(hostile_runs(), min_size=1, max_size=3))
def test_an_indexed_run_shows_what_its_files_say(specs):
    with fresh_root() as root:
        paths = build_runs(root, specs)
        built = index.read(RunStore(root))
        check_types(built.rows)
        assert rows_text(index.stored(root)) == rows_text(built.rows)  # written and read back alike
        runs = {run.id: run for run in built.runs()}
        for path in paths:
            full, known = Run.load(path), runs[path.name]
            assert (known.error, known.command, known.parent) == (full.error, full.command, full.parent)

            def shown(run):
                duration = None if full.status == "running" else query.duration_of(run)  # "running": until now
                return repr([query.status_of(run), query.status_note(run), duration, fmt.format_started(run)])
            assert shown(known) == shown(full)
            if not full.error:
                found = query.key_metric(full.summary())
                assert repr(known.config) == repr(index.flat_config(full.config))
                assert repr(known.key) == repr(dict([found] if found else []))


@SETTINGS
@given(st.lists(st.tuples(nasty_text, nasty_text, odd_numbers | st.none(), nasty_text), min_size=1, max_size=3))
def test_a_well_formed_index_with_hostile_values_is_listed(values):
    """An index that passes every check but holds markup, escapes, NaN and deep configs (planted,
    signatures matching so it is believed) is still listed as plain text without a crash."""
    with fresh_root() as root:
        rows = {}
        for i, (command, status, start, config) in enumerate(values):
            run = make_run(root, "kmeans", image=False)
            row = dict(zip(index.COLUMNS, index.read_row(root, run.id)), command=command, status=status,
                       start_time=start, config=config if i % 2 else "[" * 10_000, key_name=command, key_value=start)
            rows[run.id] = tuple(row.values())
        index.Index(RunStore(root), rows, changed=True).save()
        assert rows_text(index.stored(root)) == rows_text(rows)
        listed = json.loads(runner.invoke(app, ["runs", "list", "--runs-dir", str(root), "--json"]).output)
        assert sorted(r["command"] for r in listed) == sorted(command for command, *_ in values)  # believed
        for args in ([], ["--csv"], ["--filter", "lr:0.1 x"], ["--status", "failed"], ["--last", "1"]):
            result = runner.invoke(app, ["runs", "list", "--runs-dir", str(root), *args])
            assert result.exit_code == 0 and "Traceback" not in result.output, result.output
