"""`mlp tune`'s search space and storage: parsing, bounds, grid size, unopenable storage."""

from __future__ import annotations

import pytest

from nnlab.errors import NnlabError
from nnlab.core.study_storage import DIVERGED_ATTR, holds_slot, is_done, open_storage, optimize_to
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
    assert (mlp.layers, mlp.val_fraction, mlp.seed, mlp.momentum) == (4, 0.2, 7, 0.0)  # plain SGD
    assert (mlp.schedule, mlp.shift, mlp.flip, mlp.tta, mlp.nesterov) == ("constant", 0, False, False, False)
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


def test_the_default_space_is_problem_twos_grid_with_plain_sgd():
    config = TuneConfig()
    assert config.layers == (3, 4, 5) and config.units == (30, 40, 50)
    assert config.lr == (0.001, 0.005, 0.01, 0.05, 0.1, 0.5)
    assert config.batch_size == (16, 32, 64, 128, 256) and config.momentum == 0.0


def test_a_diverged_trial_keeps_its_slot_and_ends_the_study():
    """Pruned as diverged counts towards --trials (never rerun); pruned for another reason does not."""
    import optuna

    study = optuna.create_study(direction="maximize")
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if trial.number == 0:
            trial.set_user_attr(DIVERGED_ATTR, "the training loss became nan at step 10")
            raise optuna.TrialPruned("diverged")
        if trial.number == 1:
            raise optuna.TrialPruned("interrupted")
        assert holds_slot(trial, 2)
        return 0.5

    optimize_to(study, objective, 2)
    assert calls == [0, 1, 2]  # the interrupted trial gave its slot back; the diverged one did not
    assert [is_done(t) for t in study.trials] == [True, False, True]
