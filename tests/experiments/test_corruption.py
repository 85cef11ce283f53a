"""Corrupt-demo: the curves and distances to them, the three corruption processes, and the DAE's effect."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnlab.errors import NnlabError
from nnlab.experiments.corruption.config import DATASETS, CorruptConfig
from nnlab.experiments.corruption.corrupt import Corruption
from nnlab.experiments.corruption.manifolds import distance_to_curve, sample
from nnlab.experiments.corruption.run import train_denoiser
from nnlab.runs.recorder import Recorder

N_SD = 4  # tolerances: 4 standard deviations of the estimate, fixed seeds


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_distance_to_the_circle_is_exact():
    points = np.random.default_rng(0).normal(0, 1.5, (300, 2))
    expected = np.abs(np.linalg.norm(points, axis=1) - 1)
    assert distance_to_curve(points, "circle") == pytest.approx(expected, abs=2e-6)  # polyline sagitta ~1e-6


def test_distances_to_parabola_and_moons():
    assert distance_to_curve(np.array([[0.0, -1.0], [0.5, 0.25], [2.0, 1.0]]), "parabola") == \
        pytest.approx([1.0, 0.0, 1.0], abs=1e-6)  # (2, 1): nearest is the end (1, 1)
    # (0, 0) is 1 from the upper arc and |√1.25 - 1| from the lower one (centre (1, 0.5), radius 1)
    assert distance_to_curve(np.array([[0.0, 0.0]]), "moons")[0] == pytest.approx(math.sqrt(1.25) - 1, abs=1e-6)


@pytest.mark.parametrize("name", DATASETS)
def test_samples_lie_on_their_curve(name):
    points = sample(name, 400, gen())
    assert points.shape == (400, 2) and points.dtype == torch.float32
    assert distance_to_curve(points.numpy(), name).max() < 1.5e-6  # the polyline sagitta h²/8 ≤ 1.23e-6
    if name == "parabola":
        assert points[:, 0].min() >= -1 and points[:, 0].max() <= 1
    if name == "moons":
        upper = (points[:, 1] >= 0) & (points[:, 0] <= 1)
        assert 0.4 < float(upper.float().mean()) < 0.6  # both arcs, about half each


def test_gaussian_corruption_has_the_stated_spread():
    x = torch.zeros(20_000, 2)
    noisy = Corruption("gaussian", 0.3, x.min(0).values, x.max(0).values)(x, gen())
    n = noisy.numel()
    assert float(noisy.std()) == pytest.approx(0.3, rel=N_SD * math.sqrt(1 / (2 * n)))
    assert abs(float(noisy.mean())) < N_SD * 0.3 / math.sqrt(n)


def test_masking_zeroes_a_share_sigma_of_coordinates():
    x = torch.ones(20_000, 2)
    noisy = Corruption("masking", 0.25, x.min(0).values, x.max(0).values)(x, gen())
    share = float((noisy == 0).float().mean())
    assert share == pytest.approx(0.25, abs=N_SD * math.sqrt(0.25 * 0.75 / noisy.numel()))
    assert set(noisy.unique().tolist()) == {0.0, 1.0}


def test_salt_pepper_pins_coordinates_to_the_range():
    x = sample("parabola", 20_000, gen())
    lo, hi = x.min(0).values, x.max(0).values
    noisy = Corruption("salt-pepper", 0.2, lo, hi)(x, gen(1))
    pinned_lo, pinned_hi = noisy == lo, noisy == hi
    kept = noisy == x
    assert bool((pinned_lo | pinned_hi | kept).all())
    n = noisy.numel()
    for share in (pinned_lo.float().mean(), pinned_hi.float().mean()):
        assert float(share) == pytest.approx(0.1, abs=N_SD * math.sqrt(0.1 * 0.9 / n))


def test_corruption_is_reproducible_and_names_its_formula():
    x = sample("circle", 50, gen())
    c = Corruption("gaussian", 0.1, x.min(0).values, x.max(0).values)
    assert torch.equal(c(x, gen(3)), c(x, gen(3)))
    assert "N(0, σ² I)" in c.formula() and "σ = 0.1" in c.formula()
    assert "lo, hi" in Corruption("salt-pepper", 0.1, x.min(0).values, x.max(0).values).formula()


def test_the_dae_pulls_gaussian_corruptions_back_toward_the_curve():
    config = CorruptConfig(points=1000, epochs=6, seed=0)
    clean = sample("parabola", 1000, gen())
    corruption = Corruption("gaussian", 0.1, clean.min(0).values, clean.max(0).values)
    model, _ = train_denoiser(config, clean, corruption, Recorder(), gen(1))
    held_out = sample("parabola", 500, gen(2))
    noisy = corruption(held_out, gen(3))
    with torch.no_grad():
        restored = model(noisy).numpy()
    before = distance_to_curve(noisy.numpy(), "parabola").mean()
    after = distance_to_curve(restored, "parabola").mean()
    # σ = 0.1 leaves points ~0.08 from the parabola (sd of the mean ~0.003); ~100 Adam steps remove over half
    assert before == pytest.approx(0.08, abs=0.01)
    assert after < 0.5 * before


def test_same_seed_same_denoiser():
    config = CorruptConfig(points=200, epochs=1, seed=2)
    clean = sample("parabola", 200, gen())
    corruption = Corruption("gaussian", 0.1, clean.min(0).values, clean.max(0).values)
    (one, loss_one), (two, loss_two) = (train_denoiser(config, clean, corruption, Recorder(), gen(5)) for _ in range(2))
    assert loss_one == loss_two
    assert all(torch.equal(a, b) for a, b in zip(one.state_dict().values(), two.state_dict().values()))


@pytest.mark.parametrize("values,words", [
    ({"corruption": "masking", "sigma": 1.5}, "--sigma is a probability"),
    ({"sigma": 0}, "--sigma must be"),
    ({"data": "spiral"}, "unknown --data 'spiral'"),
])
def test_bad_settings(values, words):
    with pytest.raises(NnlabError, match=words):
        CorruptConfig(**values)
