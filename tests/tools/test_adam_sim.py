"""The 1-D optimizer lab: traces equal torch's optimizers; the bump answers are stable."""

from __future__ import annotations

import math

import pytest
import torch

from nnlab.tools.adam_sim import (FUNCTIONS, crosses, describe, escape, make_function, simulate)


def torch_trace(fn, opt_name, x0, steps, lr, beta1=0.9, beta2=0.999, eps=0.0):
    """x_t from torch's own optimizer fed with our gradient (kinks differ from autograd's)."""
    p = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
    if opt_name == "adam":
        opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
    elif opt_name == "momentum":
        opt = torch.optim.SGD([p], lr=lr, momentum=beta1, foreach=False)
    else:
        opt = torch.optim.SGD([p], lr=lr, foreach=False)
    xs, ms, vs = [], [], []
    for _ in range(steps):
        p.grad = torch.tensor([fn.grad(p.item())], dtype=torch.float64)
        opt.step()
        state = opt.state[p]
        xs.append(p.item())
        ms.append(state.get("exp_avg", state.get("momentum_buffer", torch.tensor([math.nan]))).item())
        vs.append(state["exp_avg_sq"].item() if "exp_avg_sq" in state else math.nan)
    return xs, ms, vs


@pytest.mark.parametrize("name,x0,kw", [
    ("bump", 0.0, {"eps": 0.0}),
    ("bump", 0.0, {"eps": 1e-8, "beta1": 0.8, "beta2": 0.99}),
    ("relu", 2.0, {"eps": 0.0}),
    ("sigmoid", 2.0, {"eps": 0.0}),
    ("abs", 2.0, {"eps": 0.0}),
    ("quadratic", 2.0, {"eps": 1e-8, "beta1": 0.3}),  # beta1 < 0.5: torch's other lerp branch
])
def test_adam_trace_equals_torch_step_for_step(name, x0, kw):
    fn = make_function(name)
    ours = simulate(fn, "adam", x0, 60, 0.3, **kw)
    xs, ms, vs = torch_trace(fn, "adam", x0, 60, 0.3, **kw)
    assert ours.x == xs  # bit for bit, not merely close
    assert ours.m == ms and ours.v == vs


@pytest.mark.parametrize("opt", ["gd", "momentum"])
@pytest.mark.parametrize("name", ["quadratic", "sigmoid", "bump"])
def test_gd_and_momentum_equal_torch_sgd(opt, name):
    fn = make_function(name)
    ours = simulate(fn, opt, 2.0, 40, 0.1)
    xs, ms, _ = torch_trace(fn, opt, 2.0, 40, 0.1)
    assert ours.x == xs  # bit for bit
    if opt == "momentum":
        assert ours.m == ms


def test_adam_records_the_bias_corrected_moments():
    tr = simulate(make_function("sigmoid"), "adam", 2.0, 30, 0.3, eps=0.0)
    for t, row in enumerate(tr.rows(), start=1):
        assert row["m_hat"] == pytest.approx(row["m"] / (1 - 0.9 ** t))
        assert row["v_hat"] == pytest.approx(row["v"] / (1 - 0.999 ** t))
    first = tr.rows()[0]
    # Step 1 of Adam moves by exactly lr whatever the gradient's size: m̂1/sqrt(v̂1) = sign(g1).
    assert first["x"] == pytest.approx(2.0 - 0.3)
    assert set(tr.rows()[0]) == {"t", "g", "m", "v", "m_hat", "v_hat", "x", "loss"}


@pytest.mark.parametrize("name", ["relu", "sigmoid", "abs", "quadratic"])
def test_gradients_match_autograd(name):
    fn = make_function(name)
    torch_fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "abs": torch.abs,
                "quadratic": lambda t: t * t}[name]
    for x in [-3.0, -0.5, 0.0, 0.7, 2.0, 40.0, -40.0]:
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        torch_fn(t).backward()
        assert fn.grad(x) == pytest.approx(t.grad.item(), abs=1e-15), x
        assert fn.f(x) == pytest.approx(torch_fn(torch.tensor(x, dtype=torch.float64)).item())


def test_bump_shape():
    fn = make_function("bump", h=0.5, L=1.0)
    assert [fn.f(x) for x in (0.0, 1.0, 1.25, 1.5, 2.0, 3.0)] == [1.0, 0.0, 0.25, 0.5, 0.0, -1.0]
    assert [fn.grad(x) for x in (0.5, 1.0, 1.3, 1.5, 2.5)] == [-1.0, 1.0, 1.0, -1.0, -1.0]


def test_gd_is_trapped_at_h_half():
    tr = simulate(make_function("bump", 0.5, 1.0), "gd", 0.0, 30, 0.3)
    assert tr.x[:4] == pytest.approx([0.3, 0.6, 0.9, 1.2])
    assert tr.x[-2:] == pytest.approx([0.9, 1.2])  # period-2 bounce around the minimum at L = 1
    assert not crosses(tr, 1.0, 0.5)
    assert "oscillates between x = 0.9 and x = 1.2" in describe(tr, 1.0, 0.5)


def test_escape_height():
    res = escape()
    assert res.h_rounded == 0.41 and res.h_largest_2dp == 0.41
    # Independent check: the climb does not depend on h, so h* is how far past L Adam gets
    # when the bump never ends.
    climb = simulate(make_function("bump", 1e9, 1.0), "adam", 0.0, 200, 0.3)
    assert res.h_boundary == pytest.approx(max(climb.x) - 1.0, abs=1e-8)
    assert crosses(simulate(make_function("bump", 0.41), "adam", 0.0, 200, 0.3), 1.0, 0.41)
    assert not crosses(simulate(make_function("bump", 0.42), "adam", 0.0, 200, 0.3), 1.0, 0.42)


def test_zero_gradient_with_zero_eps_does_not_poison_the_trace():
    tr = simulate(make_function("relu"), "adam", -1.0, 5, 0.3, eps=0.0)
    assert tr.x == [-1.0] * 5 and all(math.isfinite(v) for v in tr.m)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown function"):
        make_function("cosh")
    with pytest.raises(ValueError, match="unknown optimizer"):
        simulate(make_function("abs"), "rmsprop")
    with pytest.raises(ValueError):
        simulate(make_function("abs"), "adam", beta1=1.0)
    with pytest.raises(ValueError):
        make_function("bump", h=-1)
    assert set(FUNCTIONS) == {"relu", "sigmoid", "abs", "quadratic", "bump"}


@pytest.mark.parametrize("opt", ["gd", "momentum"])
def test_a_diverging_run_stops_instead_of_overflowing(opt):
    from nnlab.tools.adam_sim import DIVERGED, diverged

    tr = simulate(make_function("quadratic"), opt, 2.0, 5000, 2.0)
    assert diverged(tr) and len(tr.x) < 200 and abs(tr.x[-1]) > DIVERGED
    assert all(math.isfinite(x) for x in tr.x)
    assert not diverged(simulate(make_function("quadratic"), opt, 2.0, 50, 0.1))
