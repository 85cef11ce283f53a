"""`nnlab assignment run`: child runs of one assignment run, failures recorded, then the report."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nnlab import assignments
from nnlab.assignments import runner
from nnlab.cli.app import app
from nnlab.runs.recorder import Recorder
from nnlab.runs.store import RunStore


def test_quick_run_then_report_has_every_question(tmp_runs, idx_data_dir, tmp_path):
    cli = CliRunner()
    result = cli.invoke(app, ["assignment", "run", "kmeans-and-generative-ae", "--quick", "--only", "Q1a,Q1b",
                              "--data-dir", str(idx_data_dir), "--runs-dir", str(tmp_runs), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["quick"] is True and set(data["questions"]) == {"Q1a", "Q1b"}
    store = RunStore(tmp_runs)
    batch = store.get(data["run_id"])
    assert batch.command == "assignment run" and batch.config["assignment"] == "kmeans-and-generative-ae"
    children = [r for r in store.runs() if r.parent == batch.id]
    assert sorted(r.command for r in children) == ["kmeans", "kmeans eta"]
    kmeans = next(r for r in children if r.command == "kmeans")
    assert kmeans.config["epochs"] == 1 and kmeans.info["argv"][:2] == ["nnlab", "kmeans"]
    assert kmeans.info["argv"][-2:] == ["--data-dir", str(idx_data_dir)]  # the command line is complete
    assert batch.summary()["questions"]["Q1b"]["runs"] == [kmeans.id]
    listed = json.loads(cli.invoke(app, ["assignment", "list", "kmeans-and-generative-ae", "--json",
                                         "--runs-dir", str(tmp_runs)]).stdout)[0]
    assert {q["id"]: q["state"] for q in listed["questions"]}["Q1b"] == "answered"
    out = tmp_path / "out"
    result = cli.invoke(app, ["report", "--assignment", "kmeans-and-generative-ae", "-o", str(out),
                              "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    for question in assignments.load("kmeans-and-generative-ae").questions:
        assert f'id="q-{question.id}"' in html
    assert "Quick run." in html and "network_table.csv" in html and "nnlab cae --arch generative" in html


def test_a_failing_question_is_recorded_and_the_rest_run(tmp_runs, idx_data_dir):
    assignment = assignments.parse({"name": "demo", "title": "t", "questions": [
        {"id": "bad", "summary": "k out of range", "runs": [{"command": "kmeans", "config": {"k": 0}}]},
        {"id": "uses-bad", "summary": "needs bad", "runs": [{"command": "ae cluster", "config": {"run": "@bad"},
                                                              "positional": ["run"]}]},
        {"id": "good", "summary": "eta", "runs": [{"command": "kmeans eta", "config": {"batch_size": 32}}]},
    ]})
    store = RunStore(tmp_runs)
    batch, results = runner.run_assignment(assignment, store, shared={"data_dir": str(idx_data_dir)},
                                           recorder_for=lambda w, s: Recorder(w, s))
    assert results["bad"].status == "failed" and "--k" in results["bad"].error
    assert results["uses-bad"].status == "failed" and "question bad" in results["uses-bad"].error
    assert results["good"].status == "completed"
    good = store.get(results["good"].runs[0])
    assert good.parent == batch.id and good.config["batch_size"] == 32
    summary = store.get(batch.id).summary()
    assert summary["failed"] == 2 and summary["completed"] == 1


def test_unknown_question_or_assignment_is_exit_2_and_no_run(tmp_runs):
    cli = CliRunner()
    result = cli.invoke(app, ["assignment", "run", "kmeans-and-generative-ae", "--only", "Q9",
                              "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 2 and "no question 'Q9'" in result.output
    result = cli.invoke(app, ["assignment", "run", "hw9", "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 2 and "no assignment called 'hw9'" in result.output
    assert RunStore(tmp_runs).runs() == []
