"""`mlp tune`'s search space and storage: parsing, bounds, grid size, unopenable storage."""

from __future__ import annotations

import pytest

from nnlab.errors import NnlabError
from nnlab.core.study_storage import open_storage
from nnlab.experiments.classifiers.config import TuneConfig, parse_choices


def test_choices_parse_sorted_and_distinct():
    assert parse_choices("layers", "5, 3,4,3") == (3, 4, 5)
    assert parse_choices("lr", "0.1,1e-3") == (0.001, 0.1)
    assert parse_choices("l2", (0, 1e-4)) == (0.0, 1e-4)


@pytest.mark.parametrize("name, value, message", [
    ("layers", "", "empty search space: --layers"),
    ("units", " , ", "empty search space: --units"),
    ("lr", "0.1,fast", "--lr takes comma-separated floats"),
    ("lr", "0,0.1", "--lr value 0.0 must be greater than 0"),
    ("layers", "0,3", "--layers value 0 must be at least 1"),
    ("l2", "-1e-4", "--l2 value -0.0001 must be at least 0"),
    ("lr", "nan", "--lr value nan"),
])
def test_bad_choices_are_named(name, value, message):
    with pytest.raises(NnlabError, match=message.replace("(", r"\(")):
        parse_choices(name, value)


def test_config_grid_and_mlp_settings():
    config = TuneConfig(layers="3,4", units="30", lr="0.1", batch_size="64", epochs="2", l2="0,1e-4",
                        sampler="grid", trials=4, val_fraction=0.2, seed=7)
    assert config.grid_size() == 4
    mlp = config.mlp({"layers": 4, "units": 30, "lr": 0.1, "batch_size": 64, "epochs": 2, "l2": 1e-4})
    assert (mlp.layers, mlp.val_fraction, mlp.seed, mlp.momentum) == (4, 0.2, 7, 0.9)
    with pytest.raises(NnlabError, match="the grid holds 4 settings but --trials asks for 5"):
        TuneConfig(layers="3,4", units="30", lr="0.1", batch_size="64", epochs="2", l2="0,1e-4",
                   sampler="grid", trials=5)


@pytest.mark.parametrize("bad", [{"sampler": "bayes"}, {"trials": 0}, {"val_fraction": 1.0}, {"study_name": " "}])
def test_config_rejects(bad):
    with pytest.raises(NnlabError):
        TuneConfig(**bad)


def test_unopenable_storage_is_a_usage_error(tmp_path):
    with pytest.raises(NnlabError, match="cannot open --storage"):
        open_storage(f"sqlite:///{tmp_path}/missing/dir/tune.db")
    with pytest.raises(NnlabError, match="cannot open --storage"):
        open_storage("nosuchdb://x")
    assert open_storage(None) is None
