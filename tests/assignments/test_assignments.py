"""The assignment data files, the matching of runs to questions, and `nnlab assignment list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnlab import assignments
from nnlab.assignments import answers
from nnlab.cli.app import app
from nnlab.errors import NnlabError
from nnlab.runs.store import RunStore
from runfactory import make_run

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def test_one_data_file_per_seed_each_question_well_formed():
    names = assignments.names()
    assert names == ["adam-ae-ops-cifar-receptive", "cnn-ae-cae", "denoising-ae-latent-kmeans",
                     "fashion-mlp-landscape-ae", "kmeans-and-generative-ae"]
    if SEEDS.is_dir():
        assert names == sorted(p.stem for p in SEEDS.glob("*.md"))
    for a in assignments.load_all():
        assert a.questions, a.name
        for q in a.questions:
            assert q.summary and "\n" not in q.summary
            if q.kind == "run" and not q.uses and not q.missing:
                assert q.runs and all(s.command for s in q.runs), q.id
            if q.kind == "tool":
                assert q.tool and q.tool.startswith("nnlab ")


def test_every_command_not_marked_missing_exists_in_the_cli():
    import typer

    group = typer.main.get_command(app)
    for a in assignments.load_all():
        for q in a.questions:
            if q.missing:
                continue
            for spec in q.runs:
                words = spec.command.split()
                cmd = group
                for word in words:
                    assert word in cmd.commands, f"{a.name} {q.id}: `nnlab {spec.command}` does not exist"
                    cmd = cmd.commands[word]


def test_registered_commands_accept_every_config_field_in_the_files():
    from dataclasses import fields

    from nnlab.experiments import REGISTRY

    for a in assignments.load_all():
        for q in a.questions:
            for spec in q.runs:
                if spec.command in REGISTRY and not q.missing:
                    known = {f.name for f in fields(REGISTRY[spec.command].config_class())}
                    assert set(spec.values(quick=True)) <= known, (a.name, q.id, set(spec.values(True)) - known)


@pytest.mark.parametrize("raw, problem", [
    ({"name": "x", "title": "t", "questions": [{"id": "a", "summary": "s"}]}, "no runs"),
    ({"name": "x", "title": "t", "questions": [{"id": "a", "summary": "s", "kind": "essay"}]}, "kind"),
    ({"name": "x", "title": "t", "questions": [{"id": "a", "summary": "s", "kind": "written"},
                                               {"id": "a", "summary": "s", "kind": "written"}]}, "twice"),
    ({"name": "x", "title": "t", "questions": [{"id": "a", "summary": "s", "uses": "b"}]}, "earlier"),
    ({"name": "x", "title": "t", "questions": [{"id": "a", "summary": "s", "runs": [{"command": "ae", "oops": 1}]}]},
     "unknown key"),
])
def test_malformed_files_name_the_problem(raw, problem):
    with pytest.raises(ValueError, match=problem):
        assignments.parse(raw)


def test_unknown_assignment_is_a_clear_error():
    with pytest.raises(NnlabError, match="no assignment called 'hw9'.*kmeans-and-generative-ae"):
        assignments.load("hw9")


def test_command_line_renders_flags_booleans_lists_and_inputs():
    spec = assignments.RunSpec("cae", {"arch": "pool", "skip": False, "noise": 0.3}, {"epochs": 1})
    assert answers.command_line(spec) == ["nnlab", "cae", "--arch", "pool", "--no-skip", "--noise", "0.3"]
    assert answers.command_line(spec, quick=True)[-2:] == ["--epochs", "1"]
    cluster = assignments.RunSpec("ae cluster", {"run": "@a"}, positional=("run",))
    assert answers.command_line(cluster, inputs={"a": "2026_ae_abc"}) == ["nnlab", "ae", "cluster", "2026_ae_abc"]
    study = assignments.RunSpec("cifar", {"subset_per_class": [1, 10, None]})
    assert answers.command_line(study)[-1] == "1,10,all"


def test_a_run_answers_when_command_and_config_match_quick_overrides_aside(tmp_runs):
    exemplar = make_run(tmp_runs, "kmeans", config={"init": "exemplar", "epochs": 1, "k": 10})
    make_run(tmp_runs, "kmeans", config={"init": "random", "epochs": 1}, status="failed")
    kmeans = assignments.load("kmeans-and-generative-ae")
    found = answers.find(kmeans, RunStore(tmp_runs).runs())
    assert found["Q1b"].complete and found["Q1b"].runs[0].id == exemplar.id  # epochs is a quick override
    assert not found["Q1c"].complete  # the random run failed
    assert answers.state(found["Q2a"]) == "open"
    future = assignments.parse({"name": "x", "title": "t", "questions": [
        {"id": "a", "summary": "s", "runs": [{"command": "someday"}], "missing": {"command": "nnlab someday",
                                                                                  "why": "not yet"}}]})
    assert answers.state(answers.find(future, RunStore(tmp_runs).runs())["a"]) == "missing"
    assert answers.state(found["Q1c"]) == "open"


def test_list_shows_ticks_and_json(tmp_runs):
    make_run(tmp_runs, "kmeans", config={"init": "exemplar", "epochs": 10})
    runner = CliRunner()
    out = runner.invoke(app, ["assignment", "list", "kmeans-and-generative-ae", "--runs-dir", str(tmp_runs)])
    assert out.exit_code == 0, out.output
    q1b = next(line for line in out.output.splitlines() if "Q1b" in line)
    q1c = next(line for line in out.output.splitlines() if "Q1c" in line)
    assert "✓" in q1b and "✗" in q1c
    assert "nnlab kmeans --init exemplar" in out.output
    data = json.loads(runner.invoke(app, ["assignment", "list", "--json", "--runs-dir", str(tmp_runs)]).stdout)
    assert [d["name"] for d in data] == assignments.names()
    seed = next(d for d in data if d["name"] == "kmeans-and-generative-ae")
    states = {q["id"]: q["state"] for q in seed["questions"]}
    assert states["Q1b"] == "answered" and states["Q1c"] == "open" and states["Q2a"] == "open"


def test_list_unknown_name_exits_2(tmp_runs):
    out = CliRunner().invoke(app, ["assignment", "list", "nope", "--runs-dir", str(tmp_runs)])
    assert out.exit_code == 2 and "no assignment called 'nope'" in out.output


def test_a_shipped_file_recorded_as_an_absolute_path_still_answers(tmp_runs):
    make_run(tmp_runs, "backprop", config={"network": "/home/me/nnlab/docs/backprop_tanh.json"})
    make_run(tmp_runs, "backprop", config={"network": "/home/me/other_docs/backprop_linear.json"})
    found = answers.find(assignments.load("cnn-ae-cae"), RunStore(tmp_runs).runs())
    assert found["P2.1"].complete and not found["P2.3"].complete
