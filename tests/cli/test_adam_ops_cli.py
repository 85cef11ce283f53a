"""`nnlab adam`, `nnlab adam escape` and `nnlab ops-check` through CliRunner, with their runs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.tools import ops_reference

runner = CliRunner()


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors: one torch thread is faster than two that must sync (and CI is shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def invoke(tmp_runs, *args):
    return runner.invoke(app, [*args, "--runs-dir", str(tmp_runs)])



def test_adam_bump_default_records_a_run(tmp_runs):
    res = invoke(tmp_runs, "adam", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["crossed"] is False and "never crosses" in data["behaviour"]
    steps = data["steps"]
    assert len(steps) == 30 and set(steps[0]) >= {"g", "m", "v", "m_hat", "v_hat", "x"}
    assert steps[0]["x"] == pytest.approx(0.3)
    run_dir = tmp_runs / data["run_id"]
    arts = run_dir / "artifacts"
    assert (arts / "trace.png").stat().st_size > 10_000
    with open(arts / "trace.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and float(rows[0]["x"]) == pytest.approx(0.3)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["command"] == "adam" and info["status"] == "completed"


def test_adam_on_relu_table_and_gd(tmp_runs):
    res = invoke(tmp_runs, "adam", "--fn", "relu", "--optimizer", "gd", "--steps", "10")
    assert res.exit_code == 0, res.output
    assert "gd on relu" in res.output and "x_t" in res.output
    data = json.loads(invoke(tmp_runs, "adam", "--fn", "sigmoid", "--json").stdout)
    assert data["x0"] == 2.0 and data["steps"][0]["x"] == pytest.approx(1.7)


@pytest.mark.parametrize("args", [["--fn", "cosh"], ["--optimizer", "rmsprop"], ["--beta1", "1"],
                                  ["--eps", "-1"], ["--lr", "0"], ["--steps", "0"], ["--h", "-0.5"],
                                  ["--x0", "nan"]])
def test_adam_bad_flags_are_one_line(tmp_runs, args):
    res = invoke(tmp_runs, "adam", *args)
    assert res.exit_code == 2
    assert res.output.startswith("error:") and len(res.output.strip().splitlines()) == 1, res.output
    assert not list(tmp_runs.iterdir())  # no run created for a typo


def test_adam_escape(tmp_runs):
    res = invoke(tmp_runs, "adam", "escape", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["h_rounded"] == 0.41 and data["h_largest_2dp"] == 0.41
    assert data["gd_crosses"] is False
    assert "oscillates between x = 0.9 and x = 1.2" in data["gd_behaviour"]
    arts = tmp_runs / data["run_id"] / "artifacts"
    assert (arts / "escape.png").exists() and (arts / "bisection.csv").exists()


def test_ops_check_generated_and_saved_inputs(tmp_runs):
    res = invoke(tmp_runs, "ops-check", "--seed", "3", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["all_ok"] and data["input_shape"] == [1, 1, 32] and data["filter_shape"] == [1, 1, 3]
    arts = tmp_runs / data["run_id"] / "artifacts"
    x = torch.load(arts / "pixel_input.pt", weights_only=True)
    f = torch.load(arts / "filter.pt", weights_only=True)
    # the saved inputs reproduce the check
    again = invoke(tmp_runs, "ops-check", "--input", str(arts / "pixel_input.pt"),
                   "--filter", str(arts / "filter.pt"), "--seed", "3", "--json")
    assert json.loads(again.stdout)["rows"] == data["rows"]
    mine = torch.load(arts / "my_outputs.pt", weights_only=True)
    assert torch.equal(mine["Sigmoid"], torch.from_numpy(ops_reference.sigmoid(x.double().numpy())))
    assert f.shape == (1, 1, 3)


def test_ops_check_assignment_file_shapes(tmp_runs, tmp_path):
    torch.save(torch.randn(32, 1), tmp_path / "pixel_input.pt")
    torch.save(torch.randn(3, 1), tmp_path / "filter.pt")
    res = invoke(tmp_runs, "ops-check", "--input", str(tmp_path / "pixel_input.pt"),
                 "--filter", str(tmp_path / "filter.pt"))
    assert res.exit_code == 0, res.output
    assert "all 11 ops match torch" in res.output


def test_ops_check_mismatch_exits_1(tmp_runs, monkeypatch):
    monkeypatch.setattr(ops_reference, "sigmoid", np.tanh)
    res = invoke(tmp_runs, "ops-check")
    assert res.exit_code == 1
    assert "MISMATCH" in res.output
    assert res.output.strip().splitlines()[-1] == "error: ops-check: 1 op(s) differ from torch: Sigmoid"


def test_ops_check_bad_files(tmp_runs, tmp_path):
    torch.save({"not": "a tensor"}, tmp_path / "dict.pt")
    (tmp_path / "junk.pt").write_text("junk")
    torch.save(torch.zeros(2, 2, 3), tmp_path / "f2.pt")
    torch.save(torch.zeros(1), tmp_path / "one.pt")
    import os

    os.mkfifo(tmp_path / "pipe.pt")  # would block a reader forever
    for args, words in ((["--input", str(tmp_path / "missing.pt")], "no such file"),
                        (["--input", "/dev/zero"], "not a regular file"),
                        (["--filter", str(tmp_path / "pipe.pt")], "not a regular file"),
                        (["--input", str(tmp_path)], "not a regular file"),
                        (["--input", str(tmp_path / "dict.pt")], "holds a dict"),
                        (["--filter", str(tmp_path / "junk.pt")], "not a tensor file"),
                        (["--filter", str(tmp_path / "f2.pt")], "input channels"),
                        (["--input", str(tmp_path / "one.pt")], "at least 2 samples")):
        res = invoke(tmp_runs, "ops-check", *args)
        assert res.exit_code == 2, res.output
        assert res.output.startswith("error:") and words in res.output
        assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not list(tmp_runs.iterdir())  # a usage error leaves no failed run


def test_adam_gd_json_is_strict_json(tmp_runs):
    res = invoke(tmp_runs, "adam", "--optimizer", "gd", "--steps", "3", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["steps"][0]["m"] is None and data["steps"][0]["g"] == -1.0
    with open(tmp_runs / data["run_id"] / "artifacts" / "trace.csv") as fh:
        assert next(csv.DictReader(fh))["m"] == ""


def test_ops_check_shape_mismatch_is_null_in_json(tmp_runs, monkeypatch):
    monkeypatch.setattr(ops_reference, "maxpool1d", lambda x, *a, **k: x)  # wrong length
    res = invoke(tmp_runs, "ops-check", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert data["rows"][0]["max_abs_diff"] is None and data["mismatches"] == ["MaxPool1d(k=2, s=1)"]


def test_adam_divergence_is_a_warning_not_a_crash(tmp_runs):
    res = invoke(tmp_runs, "adam", "--fn", "quadratic", "-o", "gd", "--lr", "2", "--steps", "2000", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["diverged_at"] == len(data["steps"]) < 2000
