"""`nnlab ae corrupt-demo` through CliRunner: the formula, both figures, the JSON; bad flags: test_framework.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app

runner = CliRunner()
SMALL = ["--points", "600", "--epochs", "6"]


def invoke(tmp_runs, *args):
    return runner.invoke(app, ["ae", "corrupt-demo", *args, "--runs-dir", str(tmp_runs)])


def test_default_run_prints_the_formula_and_saves_both_figures(tmp_runs):
    res = invoke(tmp_runs, *SMALL, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["data"] == "parabola" and data["corruption"] == "gaussian" and data["sigma"] == 0.1
    assert "C(x̃|x) = N(x̃; x, σ² I)" in data["formula"] and "C(x̃|x)" in res.stderr
    assert data["distance_ratio"] < 1 and data["mean_distance_reconstructed"] < data["mean_distance_corrupted"]
    assert "closer to the curve" in res.stderr
    arts = tmp_runs / data["run_id"] / "artifacts"
    import matplotlib.image as mpimg

    for name in ("corruption.png", "dae_corrections.png"):
        image = mpimg.imread(arts / name)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
        assert np.std(image[..., :3]) > 0.05  # not blank
    assert (arts / "dae.pt").stat().st_size > 1000
    summary = json.loads((tmp_runs / data["run_id"] / "summary.json").read_text())
    assert summary["distance_ratio"] == pytest.approx(data["distance_ratio"])


def test_no_dae_is_the_assignment_plot_only(tmp_runs):
    res = invoke(tmp_runs, "--data", "circle", "--corruption", "masking", "--sigma", "0.3", "--no-dae", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert "distance_ratio" not in data and 0.4 < data["changed_share"] < 0.6  # 1 - 0.7² = 0.51
    assert "Bernoulli(1 - σ)" in data["formula"]
    arts = tmp_runs / data["run_id"] / "artifacts"
    assert (arts / "corruption.png").exists() and not (arts / "dae_corrections.png").exists()


def test_salt_pepper_explains_why_means_leave_the_curve(tmp_runs):
    res = invoke(tmp_runs, "--data", "moons", "--corruption", "salt-pepper", "--sigma", "0.2", "--points", "300",
                 "--epochs", "2")
    assert res.exit_code == 0, res.output
    assert "E[x | x̃]" in " ".join(res.output.split())
