"""Initialisation schemes against theory: the variances drawn, the mean-field recursion, the ReLU identity.

Tolerances come from sample sizes. A variance estimated from N independent Gaussian draws has
relative standard deviation √(2/N). Through depth, one draw of n units per layer makes
log Var[z^l] wander by at most about √(5l/n) (Hanin & Nica 2019, for one input; a batch wanders
less). We allow 4 standard deviations, with a fixed seed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nnlab.experiments.initialization.propagate import gaussian_inputs, propagate
from nnlab.tools.init_schemes import (activation_second_moment, bias_variance, init_linear_, theory_variances,
                                      weight_variance)

N_SD = 4


def test_scheme_variances():
    assert weight_variance("he", 100, 50) == pytest.approx(0.02)
    assert weight_variance("xavier", 100, 50) == pytest.approx(2 / 150)
    assert weight_variance("lecun", 100, 50) == pytest.approx(0.01)
    assert weight_variance("default", 100, 50) == pytest.approx(1 / 300)
    assert weight_variance("std", 100, 50, std=0.3) == pytest.approx(0.09)
    assert bias_variance("default", 100) == pytest.approx(1 / 300) and bias_variance("he", 100) == 0


@pytest.mark.parametrize("scheme", ["he", "xavier", "lecun", "default", "std"])
def test_init_linear_draws_the_stated_variance(scheme):
    layer = nn.Linear(300, 200)
    init_linear_(layer, scheme, std=0.05, generator=torch.Generator().manual_seed(0))
    w, bias = layer.weight.detach().double(), layer.bias.detach()
    expected = weight_variance(scheme, 300, 200, 0.05)
    assert float(w.var()) == pytest.approx(expected, rel=N_SD * math.sqrt(2 / w.numel()))
    assert abs(float(w.mean())) < N_SD * math.sqrt(expected / w.numel())
    if scheme == "default":  # PyTorch's own: kaiming_uniform(a=√5) and U(±1/√n) biases
        assert float(w.abs().max()) <= 1 / math.sqrt(300) and float(bias.abs().max()) <= 1 / math.sqrt(300)
        assert float(bias.abs().max()) > 0.9 / math.sqrt(300)
    else:
        assert torch.count_nonzero(bias) == 0


def test_init_linear_is_reproducible():
    a, b = nn.Linear(20, 10), nn.Linear(20, 10)
    init_linear_(a, "he", generator=torch.Generator().manual_seed(5))
    init_linear_(b, "he", generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.weight, b.weight)


def test_second_moments():
    assert activation_second_moment("relu", 3.0) == 1.5
    assert activation_second_moment("tanh", 1e-6) == pytest.approx(1e-6, rel=1e-5)  # tanh(z) ≈ z near 0
    assert activation_second_moment("tanh", 1e6) == pytest.approx(1.0, abs=1e-3)  # saturated: tanh² ≈ 1
    z = np.random.default_rng(0).normal(0.0, 1.5, 400_000)
    samples = np.tanh(z) ** 2
    assert activation_second_moment("tanh", 2.25) == pytest.approx(samples.mean(), abs=N_SD * samples.std() / math.sqrt(len(z)))


def test_theory_recursion():
    assert theory_variances("relu", 10, 64, 2 / 64, 0.0) == pytest.approx([2.0] * 10)  # He keeps it constant
    xavier = theory_variances("relu", 10, 64, 1 / 64, 0.0)
    assert xavier == pytest.approx([0.5 ** l for l in range(10)])  # halves every layer
    b = 1 / (3 * 64)
    default = theory_variances("relu", 60, 64, 1 / (3 * 64), b)
    assert default[-1] == pytest.approx(6 * b / 5)  # fixed point of q = q/6 + b: the biases keep it alive


WIDTH, DEPTH, BATCH = 1024, 8, 64  # wide enough to be near the mean-field limit, 0.5 G multiply-adds


@pytest.fixture(scope="module")
def inputs():
    return gaussian_inputs(BATCH, WIDTH, seed=0)


@pytest.fixture(scope="module")
def he(inputs):
    return propagate(inputs, "he", "relu", DEPTH, seed=0)


def test_he_relu_keeps_the_variance(he):
    # the first layer sees the Gaussian input: BATCH·WIDTH nearly independent draws
    assert he.var_z[0] == pytest.approx(2.0, rel=N_SD * math.sqrt(2 / (BATCH * WIDTH)))
    for l, v in enumerate(he.var_z, 1):
        assert abs(math.log(v / 2.0)) < N_SD * math.sqrt(5 * l / WIDTH), (l, v)
    assert all(abs(m) < 0.2 for m in he.mean_z)  # E[z] = 0: symmetric weights


def test_xavier_halves_exactly_relative_to_he(inputs, he):
    xavier = propagate(inputs, "xavier", "relu", DEPTH, seed=0)
    # same draws scaled by 1/√2 and ReLU(cz) = c ReLU(z): Var[z^l] shrinks by exactly 2^-l
    ratios = [x / h for x, h in zip(xavier.var_z, he.var_z)]
    assert ratios == pytest.approx([0.5 ** l for l in range(1, DEPTH + 1)], rel=1e-9)
    assert xavier.var_z[-1] < 0.05 * xavier.var_z[0]  # vanishes with depth: theory 2^-7 = 0.008


def test_relu_identity_second_moment_is_half_the_variance(he):
    # z's sign is symmetric over n units (each z² has relative variance 3 for a Gaussian): sd √(3/n)
    for e_x2, half in zip(he.second_moment_x[1:], he.half_var_z_prev()):
        assert e_x2 / half == pytest.approx(1.0, abs=N_SD * math.sqrt(3 / WIDTH))


def test_tanh_and_default_follow_the_mean_field_recursion(inputs):
    for scheme, activation in (("xavier", "tanh"), ("he", "tanh"), ("default", "relu")):
        result = propagate(inputs, scheme, activation, DEPTH, seed=0)
        for l, (measured, theory) in enumerate(zip(result.var_z, result.theory_var_z), 1):
            assert abs(math.log(measured / theory)) < N_SD * math.sqrt(5 * l / WIDTH), (scheme, activation, l)


def test_std_scheme_explodes_as_predicted(inputs):
    result = propagate(inputs, "std", "relu", DEPTH, std=0.1, seed=0)
    gain = WIDTH * 0.01 / 2  # n Var[w] / 2 per layer
    assert result.theory_var_z[-1] == pytest.approx(WIDTH * 0.01 * gain ** (DEPTH - 1))
    assert result.var_z[-1] > 1e4 * result.var_z[0]
    assert result.label == "N(0, 0.1²)"


def test_same_seed_same_numbers(inputs):
    assert propagate(inputs, "he", "tanh", 3, seed=4).var_z == propagate(inputs, "he", "tanh", 3, seed=4).var_z
