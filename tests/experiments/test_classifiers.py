"""Classifier models and the MLP's pieces: shapes, L2 on weight matrices only, the validation split."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnlab.core.classification import classification_objective
from nnlab.core.data import Split, to_float
from nnlab.core.models import CONV_MODELS
from nnlab.core.models.classifiers import CNN, MLP, MLP_VARIANTS, l2_penalty, weight_matrices
from nnlab.core.train import TrainState
from nnlab.errors import NnlabError
from nnlab.experiments.classifiers.config import MLP_PRESETS, VARIANTS, MLPConfig, preset_text
from nnlab.experiments.classifiers.mlp import (DivergenceGuard, LastLosses, augmented, initialise, one_cycle,
                                              validation_split)
from nnlab.experiments.classifiers.report import confusion_sentence, most_confused, short_names


def test_cnn_shapes_and_forty_first_filters():
    model = CNN()
    assert model.conv1.out_channels == 40 and model.conv1.weight.shape == (40, 1, 5, 5)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert isinstance(CONV_MODELS["cnn"](), CNN)


def test_the_config_offers_exactly_the_models_variants():
    assert VARIANTS == MLP_VARIANTS  # the config names them without importing torch


@pytest.mark.parametrize("variant", MLP_VARIANTS)
def test_mlp_variants_shapes(variant):
    model = MLP(layers=4, units=30, variant=variant)
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [30, 30, 30, 30, 10]


@pytest.mark.parametrize("variant", ["base", "batchnorm", "prelu"])
def test_l2_penalty_covers_weight_matrices_only(variant):
    torch.manual_seed(0)
    model = MLP(layers=3, units=8, variant=variant)
    expected = 0.5 * 0.01 * sum(float((m.weight.detach() ** 2).sum()) for m in model.modules() if isinstance(m, nn.Linear))
    assert float(l2_penalty(model, 0.01).detach()) == pytest.approx(expected, rel=1e-6)
    assert all(p.dim() == 2 for p in weight_matrices(model))

    # moving every bias, BatchNorm scale/shift and PReLU slope leaves the penalty unchanged
    with torch.no_grad():
        for p in model.parameters():
            if not any(p is w for w in weight_matrices(model)):
                p.add_(3.0)
    assert float(l2_penalty(model, 0.01).detach()) == pytest.approx(expected, rel=1e-6)

    model.zero_grad()
    l2_penalty(model, 0.01).backward()
    for name, p in model.named_parameters():
        if any(p is w for w in weight_matrices(model)):
            torch.testing.assert_close(p.grad, 0.01 * p.detach())  # its gradient is weight decay
        else:
            assert p.grad is None, name


def _indexed_split(n: int) -> Split:
    return Split(torch.zeros(n, 1, 2, 2, dtype=torch.uint8), torch.arange(n))


def test_validation_split_is_disjoint_complete_and_seeded():
    split = _indexed_split(100)
    train, val = validation_split(split, 0.2, seed=3)
    assert len(val) == 20 and len(train) == 80
    ids_train, ids_val = set(train.labels.tolist()), set(val.labels.tolist())
    assert not ids_train & ids_val and ids_train | ids_val == set(range(100))
    again_train, again_val = validation_split(split, 0.2, seed=3)
    assert torch.equal(again_val.labels, val.labels) and torch.equal(again_train.labels, train.labels)
    assert not torch.equal(validation_split(split, 0.2, seed=4)[1].labels, val.labels)


def test_validation_split_needs_both_parts():
    with pytest.raises(NnlabError, match="val-fraction"):
        validation_split(_indexed_split(3), 0.1, seed=0)


@pytest.mark.parametrize("bad", [{"val_fraction": 0.0}, {"val_fraction": 1.0}, {"val_fraction": -0.2},
                                 {"variant": "swish"}, {"l2": -1.0}, {"layers": 0}, {"lr": 0.0}])
def test_mlp_config_rejects_bad_values(bad):
    with pytest.raises(NnlabError):
        MLPConfig(**bad)


def test_last_losses_keeps_the_last_twenty_steps():
    keeper = LastLosses()
    state = TrainState(model=nn.Linear(1, 1), optimizer=None)
    for step in range(1, 31):
        state.step, state.loss = step, torch.tensor(float(step))
        keeper.on_step_end(state)
    assert keeper.values() == [(s, float(s)) for s in range(11, 31)]


def test_most_confused_pairs():
    table = np.array([[50, 7, 0], [1, 40, 2], [0, 9, 30]])
    assert most_confused(table, 2) == [(2, 1, 9), (0, 1, 7)]
    sentence = confusion_sentence(table, ["a", "b", "c"])
    assert sentence == "Most confused pairs: b and c (2 b→c, 9 c→b); a and b (7 a→b, 1 b→a)."


def test_short_names_fit_a_table_cell():
    assert short_names(["0 - zero", "1 - one"]) == ["0", "1"]
    assert short_names(["T-shirt/top", "Trouser", "Ankle boot"]) == ["T-shirt", "Trouser", "Boot"]


# ---- the bonus network's pieces (--preset best) ------------------------------------------

def test_presets_fill_what_flags_leave_unset():
    best = MLPConfig(preset="best", epochs=3)
    for name, value in vars(MLP_PRESETS["best"]).items():
        assert getattr(best, name) == (3 if name == "epochs" else value), name
    seed = MLPConfig()
    assert (seed.layers, seed.units, seed.lr, seed.momentum, seed.schedule, seed.shift) == (3, 50, 0.01, 0.9,
                                                                                             "constant", 0)
    assert "units 1024" in preset_text("best")
    with pytest.raises(NnlabError, match="--nesterov needs --momentum"):
        MLPConfig(nesterov=True, momentum=0.0)
    with pytest.raises(NnlabError, match="unknown --preset"):
        MLPConfig(preset="fastest")


def test_dropout_rate_applies_to_any_variant():
    def rates(model):
        return [m.p for m in model.modules() if isinstance(m, nn.Dropout)]

    assert rates(MLP(layers=2, units=4, variant="dropout")) == [0.1, 0.1]
    assert rates(MLP(layers=2, units=4)) == []
    assert rates(MLP(layers=2, units=4, variant="batchnorm", dropout=0.2)) == [0.2, 0.2]


def test_objective_smooths_labels_and_averages_the_mirror_in_eval():
    torch.manual_seed(0)
    model = MLP(layers=1, units=8)
    images, labels = torch.randn(6, 1, 28, 28), torch.randint(0, 10, (6,))
    eps = 0.1
    loss, extras = classification_objective(label_smoothing=eps, flip_tta=True)(model.train(), images, labels)
    logp = torch.log_softmax(model(images), 1)
    smoothed = -((1 - eps) * logp.gather(1, labels[:, None]).squeeze(1) + eps * logp.mean(1)).mean()
    torch.testing.assert_close(loss, smoothed)  # training: no mirror
    torch.testing.assert_close(extras["ce"], -logp.gather(1, labels[:, None]).mean().detach())
    model.eval()
    _, extras = classification_objective(flip_tta=True)(model, images, labels)
    mean_logits = (model(images) + model(images.flip(-1))) / 2
    assert float(extras["acc"]) == pytest.approx(float((mean_logits.argmax(1) == labels).float().mean()))


def test_augmented_transform_shifts_and_mirrors_uint8_batches():
    n = 32
    images = torch.randint(0, 256, (n, 1, 28, 28), generator=torch.Generator().manual_seed(1)).to(torch.uint8)
    assert augmented(to_float, 0, False, torch.Generator()) is to_float
    out = augmented(lambda x: x, 1, True, torch.Generator().manual_seed(0))(images)
    assert out.shape == images.shape and out.dtype == torch.uint8
    # away from the border, each image is itself or its mirror moved by at most one pixel
    moved = [v.roll((dy, dx), (1, 2)) for v in (images[:, 0], images[:, 0].flip(-1))
             for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    which = [next(k for k, m in enumerate(moved) if torch.equal(out[i, 0, 1:-1, 1:-1], m[i, 1:-1, 1:-1]))
             for i in range(n)]
    assert len(set(which)) > 5 and any(k >= 9 for k in which)  # varied shifts, some mirrored


def test_one_cycle_warms_up_to_the_peak_then_decays_to_about_zero():
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.2, momentum=0.9)
    schedule = one_cycle(optimizer, 0.2, 100)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs[0] == pytest.approx(0.2 / 25) and max(lrs) == pytest.approx(0.2, rel=1e-3)
    assert lrs.index(max(lrs)) in (24, 25) and lrs[-1] < 1e-3
    assert optimizer.param_groups[0]["momentum"] == 0.9  # not cycled


def test_divergence_guard_stops_at_a_nan_loss():
    guard = DivergenceGuard(every=2)
    state = TrainState(model=nn.Linear(1, 1), optimizer=None, epoch=1)
    for step, loss in enumerate([1.0, 2.0, float("nan"), float("nan")], start=1):
        state.step, state.loss = step, torch.tensor(loss)
        guard.on_step_end(state)
    assert state.stop and "nan at step 4" in guard.reason


@pytest.mark.parametrize("scheme, variance", [("he", lambda n_in, n_out: 2 / n_in),
                                              ("xavier", lambda n_in, n_out: 2 / (n_in + n_out)),
                                              ("lecun", lambda n_in, n_out: 1 / n_in)])
def test_mlp_init_draws_each_linear_layer_with_the_schemes_variance(scheme, variance):
    torch.manual_seed(0)
    model = MLP(3, 256)
    initialise(model, scheme)
    for layer in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
        n_out, n_in = layer.weight.shape
        want = variance(n_in, n_out)
        # the sample variance of n_in·n_out draws has a relative std of sqrt(2/(n_in·n_out)) < 2%
        assert layer.weight.var().item() == pytest.approx(want, rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0


def test_mlp_init_default_keeps_pytorchs_draw():
    torch.manual_seed(0)
    model = MLP(2, 64)
    before = [p.clone() for p in model.parameters()]
    initialise(model, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_mlp_init_flag_is_checked():
    assert MLPConfig(init="he").init == "he"
    with pytest.raises(NnlabError, match="--init"):
        MLPConfig(init="std")
