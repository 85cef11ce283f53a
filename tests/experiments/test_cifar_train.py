"""The CIFAR experiment on tiny real-format data: learnability, subsets, the budget, the schedule."""

from __future__ import annotations

import pytest
import torch

from cifar_files import one_thread, write_cifar_folder  # noqa: F401 (a fixture)
from nnlab.core.distributed import World
from nnlab.experiments.cifar.config import CifarConfig
from nnlab.experiments.cifar.recipe import balanced_subset, lr_multiplier, subset_plan
from nnlab.experiments.cifar.run import run
from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder

TINY = dict(widths=(16, 32, 32), device="cpu")
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    return write_cifar_folder(tmp_path_factory.mktemp("cifar"), n_train=300, n_test=100)


def test_separable_classes_are_learnt(cifar_dir):
    # 60 steps of 20 images: far fewer images than the recipe's defaults are tuned for, so
    # the per-1024 learning rate is raised to give the same progress per step
    config = CifarConfig(epochs=4, batch_size=20, lr=24.0, data_dir=str(cifar_dir), **TINY)
    result = run(config, Recorder())
    assert result["test_accuracy"] >= 0.9 and result["train_accuracy"] >= 0.9
    assert result["steps"] == 60 and not result["stopped_early"] and result["world_size"] == 1
    assert result["images_per_s"] > 0 and result["wall_s"] > result["train_s"] > 0


def test_time_budget_stops_cleanly_and_says_so(cifar_dir):
    config = CifarConfig(epochs=50, batch_size=50, max_minutes=1e-4, data_dir=str(cifar_dir), **TINY)
    result = run(config, Recorder())
    assert result["stopped_early"] and result["epochs_done"] == 1 and result["steps"] == 1
    assert 0 <= result["test_accuracy"] <= 1


def test_balanced_subsets_are_seeded_and_balanced():
    labels = torch.arange(1000) % 10
    a = balanced_subset(labels, 7, 10, seed=1)
    assert len(a) == 70 and torch.bincount(labels[a]).tolist() == [7] * 10
    assert torch.equal(a, balanced_subset(labels, 7, 10, seed=1))
    assert not torch.equal(a, balanced_subset(labels, 7, 10, seed=2))
    assert len(balanced_subset(labels, None, 10, seed=1)) == 1000
    with pytest.raises(NnlabError, match="class 0 has only 100"):
        balanced_subset(labels, 101, 10, seed=1)


def test_subset_plan_gives_small_subsets_as_many_steps_and_more_shift():
    config = CifarConfig()
    assert subset_plan(config, 50_000, None, 1) == {"batch_size": 1024, "repeats": 1, "translate": 2}
    one = subset_plan(config, 50_000, 1, 1)  # 10 images: full batch, tiled to 49 steps per epoch
    assert one == {"batch_size": 10, "repeats": 49, "translate": 4}
    thousand = subset_plan(config, 50_000, 1000, 2)
    assert thousand["batch_size"] == 1024 and thousand["repeats"] == 5 and thousand["translate"] == 2


def test_lr_schedule_warms_up_then_decays():
    values = [lr_multiplier(s, 100, 0.2) for s in range(101)]
    assert values[0] == pytest.approx(0.2) and values[20] == pytest.approx(1.0)
    assert values[100] == pytest.approx(0.07) and max(values) == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(values[:20], values[1:21]))


@pytest.mark.parametrize("values, message", [
    (dict(subset_per_class="0"), "1 to 5000"), (dict(subset_per_class="5001"), "1 to 5000"),
    (dict(subset_per_class="ten"), "not a whole number"), (dict(widths="64,x"), "not a whole number"),
    (dict(precision="fp8"), "--precision"), (dict(batch_size=1023, world_size=2), "split evenly"),
])
def test_bad_settings_are_refused(values, message):
    with pytest.raises(NnlabError, match=message):
        CifarConfig(**values)


def test_world_size_must_match_the_launch(cifar_dir):
    from nnlab.core import distributed

    with pytest.raises(NnlabError, match="WORLD_SIZE is 1"):
        distributed.setup("cpu", 2)
    assert distributed.setup("cpu", 1) == World(0, 1, torch.device("cpu"))
