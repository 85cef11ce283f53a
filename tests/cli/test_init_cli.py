"""`nnlab init` through CliRunner: the tables, the JSON, the PNG and CSV in the run; bad flags: test_framework.py."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app

runner = CliRunner()
SMALL = ["--depth", "5", "--width", "64", "--batch", "32"]


def invoke(tmp_runs, *args):
    return runner.invoke(app, ["init", *args, "--runs-dir", str(tmp_runs)])


def test_init_json_png_and_csv(tmp_runs):
    res = invoke(tmp_runs, *SMALL, "--std", "0.2", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["schemes"]) == {"he", "xavier", "lecun", "default", "std"}
    he = data["schemes"]["he"]
    assert he["weight_variance"] == pytest.approx(2 / 64) and len(he["layers"]) == 5
    first = he["layers"][0]
    assert first["theory_var_z"] == pytest.approx(2.0) and first["half_var_z_prev"] is None
    assert he["layers"][1]["half_var_z_prev"] == pytest.approx(first["var_z"] / 2)
    assert data["schemes"]["std"]["weight_variance"] == pytest.approx(0.04)
    arts = tmp_runs / data["run_id"] / "artifacts"
    assert (arts / "variance_by_depth.png").stat().st_size > 20_000
    with open(arts / "variances.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 * 5 and rows[0]["scheme"] == "he" and float(rows[0]["var_z"]) == pytest.approx(first["var_z"])
    assert "Var[z^l] measured (÷ theory)" in res.stderr and "E[x_l²] / (Var[z^(l-1)]/2)" in res.stderr
    metrics = [json.loads(line) for line in (tmp_runs / data["run_id"] / "metrics.jsonl").read_text().splitlines()]
    assert {m["name"] for m in metrics} >= {"var_z_he", "var_z_std"}


def test_init_tanh_says_the_identity_is_for_relu(tmp_runs):
    res = invoke(tmp_runs, *SMALL, "--activation", "tanh")
    assert res.exit_code == 0, res.output
    words = " ".join(res.output.split())  # captions wrap at the table's width
    assert "the identity is for ReLU" in words and "N(0, 0" not in words  # no --std: no std column


def test_same_seed_same_numbers(tmp_runs):
    one = json.loads(invoke(tmp_runs, *SMALL, "--seed", "3", "--json").stdout)["schemes"]
    two = json.loads(invoke(tmp_runs, *SMALL, "--seed", "3", "--json").stdout)["schemes"]
    assert one == two
