"""`nnlab backprop NET.json` through CliRunner: the worked example, the shipped examples, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs"
CLASSIC = DOCS / "backprop_classic.json"


def invoke(tmp_runs, *args):
    return runner.invoke(app, ["backprop", *map(str, args), "--runs-dir", str(tmp_runs)])


def test_classic_example_shows_its_work_and_records_a_run(tmp_runs):
    res = invoke(tmp_runs, CLASSIC)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "= 0.298371109" in out and "0.35891648" in out  # total error, w5 after one step
    assert "δ^2 = ((w^3)^T δ^3) ⊙ σ'(z^2)" in out and "BP4" in out and "weights[j][k]" in out
    assert "autograd agrees with every number" in out
    (run_dir,) = tmp_runs.iterdir()
    info = json.loads((run_dir / "run.json").read_text())
    assert info["command"] == "backprop" and info["status"] == "completed"
    assert info["config"]["network"] == str(CLASSIC)
    saved = json.loads((run_dir / "artifacts" / "network.json").read_text())
    assert saved["layers"][1]["weights"] == [[0.4, 0.45], [0.5, 0.55]]
    trace = json.loads((run_dir / "artifacts" / "trace.json").read_text())
    assert trace["cost"] == pytest.approx(0.298371109, abs=1e-9)


def test_json_has_every_number_per_layer(tmp_runs):
    res = invoke(tmp_runs, CLASSIC, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["cost"] == pytest.approx(0.298371109, abs=1e-9)
    assert len(data["layers"]) == 2
    for layer in data["layers"]:
        assert set(layer) >= {"z", "a", "delta", "grad_weights", "grad_biases", "new_weights", "new_biases"}
        assert len(layer["grad_weights"]) == 2 and len(layer["grad_weights"][0]) == 2
    assert data["layers"][1]["new_weights"][0][0] == pytest.approx(0.35891648, abs=1e-8)
    assert data["autograd"]["agrees"] and data["autograd"]["max_abs_diff"] < 1e-15


@pytest.mark.parametrize("path", sorted(DOCS.glob("backprop_*.json")), ids=lambda p: p.name)
def test_shipped_examples_run_and_agree_with_autograd(tmp_runs, path):
    res = invoke(tmp_runs, path, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["autograd"]["agrees"]
    assert "llustrative" in res.stderr or path == CLASSIC


def test_example_shapes_match_their_questions(tmp_runs):
    softmax = json.loads(invoke(tmp_runs, DOCS / "backprop_softmax.json", "--json").stdout)
    last = softmax["layers"][-1]
    assert last["equation"].startswith("δ^L = a^L - y")
    assert last["delta"] == pytest.approx([a - y for a, y in zip(last["a"], [0, 1, 0])], abs=1e-15)
    linear = json.loads(invoke(tmp_runs, DOCS / "backprop_linear.json", "--json").stdout)
    assert all(layer["sigma_prime"] == [1.0, 1.0] for layer in linear["layers"])
    res = invoke(tmp_runs, DOCS / "backprop_p33.json", "--json")
    p33 = json.loads(res.stdout)
    assert p33["cost_name"] == "cross-entropy" and p33["layers"][-1]["equation"].startswith("δ^L = a^L - y")
    # equations print as written: their brackets are not taken for markup
    assert "C = -Σ_j [y_j ln a^L_j + (1 - y_j) ln(1 - a^L_j)] = 1.65052853" in res.stderr


def test_lr_flag_overrides_the_file(tmp_runs):
    data = json.loads(invoke(tmp_runs, CLASSIC, "--lr", "1", "--json").stdout)
    grad = data["layers"][1]["grad_weights"][0][0]
    assert data["learning_rate"] == 1 and data["layers"][1]["new_weights"][0][0] == pytest.approx(0.4 - grad)


def _bad(tmp_path, **changes):
    net = json.loads(CLASSIC.read_text()) | changes
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(net))
    return path


@pytest.mark.parametrize("changes,words", [
    ({"target": [0.1, 0.2, 0.3]}, "target: expected 2 values"),
    ({"cost": "hinge"}, "cost: unknown 'hinge'"),
    ({"layers": [{"weights": [[0.1, 0.2]], "biases": [0.1], "activation": "softmax"},
                 {"weights": [[0.4]], "biases": [0.6], "activation": "sigmoid"}]},
     "layers[0].activation: softmax is allowed on the last layer only"),
    ({"layers": [{"weights": [[0.1, 0.2], [0.3, 0.4]], "biases": [0.1, 0.2], "activation": "sigmoid"},
                 {"weights": [[0.4, 0.5, 0.6]], "biases": [0.6], "activation": "sigmoid"}]},
     "layers[1].weights: expected 1 rows of 2"),
    ({"layers": [{"weights": [[0.1, 0.2]], "biases": [0.1], "activation": "gelu"}]}, "layers[0].activation: unknown 'gelu'"),
])
def test_bad_file_is_one_line_and_no_run(tmp_path, tmp_runs, changes, words):
    res = invoke(tmp_runs, _bad(tmp_path, **changes))
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error:") and words in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not any(tmp_runs.iterdir())  # checked before the run exists


@pytest.mark.parametrize("args,words", [
    (["absent.json"], "cannot open"),
    ([".", ], "not a regular file"),
    ([CLASSIC, "--lr", "0"], "--lr must be positive"),
    ([CLASSIC, "--lr", "nan"], "--lr must be a finite number"),
])
def test_bad_arguments(tmp_path, tmp_runs, args, words):
    res = invoke(tmp_runs, *[tmp_path / a if isinstance(a, str) and a.endswith(".json") else a for a in args])
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and words in res.output, res.output
    assert not any(tmp_runs.iterdir())


def test_help_names_the_format_and_bp_equations():
    res = runner.invoke(app, ["backprop", "--help"])
    assert res.exit_code == 0
    assert "network" in res.output and "weights[j][k]" in res.output and "BP1-BP4" in res.output and "--lr" in res.output
