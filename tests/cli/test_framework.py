"""The experiment framework: configs declared once drive the CLI; mistakes never leave a run behind."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, fields

import pytest
import torch
from typer.testing import CliRunner
from usage import assert_refused

from nnlab import experiments
from nnlab.cli.app import app
from nnlab.errors import NnlabError
from nnlab.experiments.base import Config, config_values, option, range_text, spec_of
from nnlab.runs.recorder import Recorder
from nnlab.runs.store import RunStore

runner = CliRunner()


def refused(tmp_runs, *args: str, needle: str) -> None:
    """The command is one `error:` line naming `needle`, exit 2, and no run directory exists."""
    assert_refused(runner.invoke(app, [*args, "--runs-dir", str(tmp_runs)]), needle, tmp_runs)


GRID_64 = ",".join(map(str, range(1, 65)))
# Every command's bad values: {command: {its arguments: what the one error line must name}}. Values that only
# the data shows wrong are judged on the tiny IDX sets (200 training images).
REFUSED = {
    "kmeans": {
        "--lr inf": "--lr must be a finite number",
        "--lr nan": "--lr must be a finite number",
        "--temperature inf": "--temperature",
        "--seed -1": "--seed must be at least 0",
        "--k 5000": "--k must be at least 1 and at most 256, got 5000",
        "--init bogus": "exemplar (alias cheat)",
        "--images ascii": "--images",
    },
    "ae": {
        "--latent 2000000000": "--latent must be at least 1 and at most 4096",
        "--widths 784,2000000000": "--widths must be at least 1 and at most 16384",
        "--noise inf": "--noise",
    },
    "ae corrupt-demo": {
        "--sigma 1.5 --corruption salt-pepper": "--sigma is a probability",
        "--sigma -0.1": "--sigma must be",
        "--sigma nan": "--sigma must be a finite number",
        "--data spiral": "unknown --data 'spiral'",
        "--corruption blur": "unknown --corruption 'blur'",
        "--points 5": "--points must be",
    },
    "cae": {"--lr -1": "--lr must be positive"},
    "cae generate x": {"--n 0": "--n must be at least 1 and at most 400"},
    "adam": {"--L inf": "--L"},
    "adam escape": {"--gd-lr nan": "--gd-lr"},
    "ops-check": {"--length 2000000000": "--length"},
    "init": {
        "--depth 0": "--depth must be",
        "--width 100000": "--width must be",
        "--activation sigmoid": "unknown --activation 'sigmoid'",
        "--std -1": "--std must be",
        "--std inf": "--std must be a finite number",
        "--batch 1": "--batch must be",
    },
    "cnn": {
        "--dataset cifar": "unknown --dataset",
        "--lr inf": "--lr must be a finite number (positive and at most 100)",
        "--lr nan": "--lr must be a finite number",
        "--epochs 0": "--epochs must be at least 1",
    },
    "mlp": {
        "--val-fraction 1.5": "--val-fraction must be strictly between 0 and 1",
        "--val-fraction 0": "--val-fraction must be strictly between 0 and 1",
        "--val-fraction 0.001": "leaves 0 of 200 training images for validation",
        "--variant swish": "unknown --variant",
        "--l2 inf": "--l2 must be a finite number (at least 0 and at most 100)",
        "--units 2000000000": "--units must be at least 1 and at most 16384",
        "--layers 100000": "--layers must be at least 1 and at most 64",
        "--momentum 1": "--momentum must be at least 0 and less than 1",
        "--seed -1": "--seed must be at least 0",
    },
    "mlp tune": {
        "--layers ''": "empty search space: --layers",
        "--lr 0.1,-1": "inconsistent search space: --lr",
        "--lr 0.1,inf": "--lr value inf must be a finite number",
        "--units 8,2000000000": "--units value 2000000000 must be at most 16384",
        "--trials 0": "--trials must be at least 1",
        "--storage sqlite:////nonexistent-dir/x/tune.db": "cannot open --storage",
        "--sampler grid --layers 3 --units 30 --lr 0.1 --batch-size 64 --epochs 1 --l2 0 --trials 5":
            "the grid holds 1 settings",
        f"--sampler grid --units {GRID_64} --layers {GRID_64} --batch-size {GRID_64}":
            "more than the grid sampler takes",
    },
    "landscape": {
        "--grid 2": "--grid must be at least 3",
        "--grid 2000000000": "--grid must be at least 3 and at most 401",
        "--margin inf": "--margin must be a finite number (at least 0 and at most 100)",
        "--units 2000000000": "--units must be at least 1 and at most 1024",
        "--subset 5000": "--subset 5000 exceeds the 200 training images",
    },
}


@pytest.mark.parametrize("command, args, needle", [
    pytest.param(command, args, needle, id=f"{command} {args}"[:60])
    for command, cases in REFUSED.items() for args, needle in cases.items()])
def test_every_number_is_checked_before_a_run_exists(tmp_runs, idx_data_dir, monkeypatch, command, args, needle):
    monkeypatch.setenv("NNLAB_DATA", str(idx_data_dir))
    refused(tmp_runs, *command.split(), *shlex.split(args), needle=needle)


def test_missing_data_leaves_no_failed_run(tmp_runs, tmp_path):
    refused(tmp_runs, "kmeans", "--no-fallback", "--data-dir", str(tmp_path / "none"), needle="nnlab data import")


def test_an_input_that_is_no_tensor_leaves_no_failed_run(tmp_runs, tmp_path):
    (tmp_path / "notensor.pt").write_text("not a tensor")
    refused(tmp_runs, "ops-check", "--input", str(tmp_path / "notensor.pt"), needle="not a tensor file")
    torch.save(torch.zeros(1), tmp_path / "short.pt")
    refused(tmp_runs, "ops-check", "--input", str(tmp_path / "short.pt"), needle="at least 2 samples")


def test_help_comes_from_the_config_fields():
    from nnlab.experiments.kmeans.config import KMeansConfig

    result = runner.invoke(app, ["kmeans", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for f in fields(KMeansConfig):
        spec = spec_of(f)
        assert spec.name(f.name) in result.output
        assert spec.help.replace("\\[", "[").split(" (")[0][:40] in result.output  # the help text, written only in the config
    assert "[default: 4.5]" in result.output and "Common options" in result.output


@pytest.mark.parametrize("name", sorted(experiments.REGISTRY))
def test_every_registered_command_has_help(name):
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in result.output
    assert ("--runs-dir" in result.output) == experiments.get(name).records  # a calculator keeps no run


def test_a_config_round_trips_through_run_json(idx_data_dir, tmp_runs):
    result = runner.invoke(app, ["kmeans", "--k", "4", "--epochs", "1", "--no-lloyd", "--init", "cheat",
                                 "--data-dir", str(idx_data_dir), "--runs-dir", str(tmp_runs), "--json"])
    assert result.exit_code == 0, result.output
    run = RunStore(tmp_runs).get(json.loads(result.stdout)["run_id"])
    config = experiments.config_from_run("kmeans", run.config)
    assert config.k == 4 and config.init == "exemplar" and config_values(config) == run.config
    with pytest.raises(NnlabError, match="no longer takes: width"):
        experiments.config_from_run("kmeans", {**run.config, "width": 3})
    with pytest.raises(NnlabError, match="--k"):
        experiments.config_from_run("kmeans", {**run.config, "k": 0})
    with pytest.raises(NnlabError, match="no experiment called `kmeanz`"):
        experiments.config_from_run("kmeanz", {})


def test_tuples_come_back_as_tuples():
    from nnlab.experiments.autoencoders.config import AEConfig

    config = experiments.config_from_run("ae", json.loads(json.dumps(config_values(AEConfig(widths=(784, 32))))))
    assert config == AEConfig(widths=(784, 32))


def test_launch_records_a_child_run(tmp_runs):
    from nnlab.experiments.kmeans.config import EtaConfig

    store = RunStore(tmp_runs)
    writer, result = experiments.launch("kmeans eta", EtaConfig(batch_size=32), lambda w, s: Recorder(w, s),
                                        store, parent="the-parent")
    run = store.get(writer.id)
    assert run.status == "completed" and run.parent == "the-parent" and run.config["batch_size"] == 32
    assert result["batch_size"] == 32 and (run.path / "artifacts" / "eta_curves.png").is_file()


def test_option_declares_range_choices_and_aliases():
    @dataclass(frozen=True, kw_only=True)
    class Demo(Config):
        rate: float = option(0.5, "A rate.", min=0, min_open=True, max=1)
        mode: str = option("a", "a or b.", choices=("a", "b"), aliases={"alpha": "a"})
        sizes: tuple[int, ...] = option((1, 2), "Sizes.", min=1, max=8, max_items=3)

    assert Demo(mode="alpha").mode == "a"
    assert range_text(spec_of(fields(Demo)[0])) == "positive and at most 1"
    for bad, needle in (({"rate": 0.0}, "--rate must be positive and at most 1, got 0"),
                        ({"rate": float("inf")}, "finite"), ({"mode": "c"}, "unknown --mode 'c'"),
                        ({"sizes": (1, 9)}, "--sizes must be at least 1 and at most 8"),
                        ({"sizes": (1, 1, 1, 1)}, "at most 3 entries"), ({"rate": "x"}, "must be a number")):
        with pytest.raises(NnlabError, match=needle.replace("(", r"\(")):
            Demo(**bad)
    with pytest.raises(TypeError):
        option([1], "a list default would be shared by every config")
