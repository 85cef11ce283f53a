"""numpy re-implementations against torch over random shapes (hypothesis), and the check runner."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from nnlab.errors import NnlabError
from nnlab.tools import ops_compare, ops_reference as ref

FAST = settings(max_examples=40, deadline=None)


@st.composite
def signals(draw, min_len=1):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    length = draw(st.integers(min_len, 24))
    seed = draw(st.integers(0, 2**31 - 1))
    x = np.random.default_rng(seed).normal(size=(n, c, length))
    return x


@st.composite
def pool_args(draw, dilation=True):
    k = draw(st.integers(1, 5))
    return dict(k=k, s=draw(st.integers(1, 4)), p=draw(st.integers(0, k // 2)),
                d=draw(st.integers(1, 3)) if dilation else 1, ceil=draw(st.booleans()))


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


def fits(length, a):
    return ref.output_size(length, a["d"] * (a["k"] - 1) + 1, a["s"], a["p"], a["ceil"]) >= 1


@FAST
@given(signals(), pool_args())
def test_maxpool1d(x, a):
    if not fits(x.shape[-1], a):
        with pytest.raises(ValueError):
            ref.maxpool1d(x, a["k"], a["s"], a["p"], a["d"], a["ceil"])
        return
    theirs = F.max_pool1d(torch.from_numpy(x), a["k"], a["s"], a["p"], a["d"], a["ceil"])
    close(ref.maxpool1d(x, a["k"], a["s"], a["p"], a["d"], a["ceil"]), theirs)


@FAST
@given(signals(), pool_args(dilation=False), st.booleans())
def test_avgpool1d(x, a, include_pad):
    if not fits(x.shape[-1], a):
        return
    theirs = F.avg_pool1d(torch.from_numpy(x), a["k"], a["s"], a["p"], a["ceil"], include_pad)
    close(ref.avgpool1d(x, a["k"], a["s"], a["p"], a["ceil"], include_pad), theirs)


@FAST
@given(signals(), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 3),
       st.integers(1, 3), st.booleans(), st.integers(0, 1000))
def test_conv1d(x, c_out, k, s, p, d, with_bias, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(c_out, x.shape[1], k))
    b = rng.normal(size=c_out) if with_bias else None
    if ref.output_size(x.shape[-1], d * (k - 1) + 1, s, p, False) < 1:
        return
    theirs = F.conv1d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                      s, p, d)
    close(ref.conv1d(x, w, b, s, p, d), theirs)


@FAST
@given(signals())
def test_sigmoid(x):
    x = x * 50  # far into both tails, where a naive exp would overflow
    close(ref.sigmoid(x), torch.sigmoid(torch.from_numpy(x)))


@FAST
@given(signals(min_len=2), st.booleans(), st.floats(0.01, 0.9), st.integers(0, 1000))
def test_batchnorm1d(x, flat, momentum, seed):
    if flat:
        x = x[:, :, 0] if x.shape[0] > 1 else x[0].T  # (N, C) layout, N > 1
    c = x.shape[1]
    rng = np.random.default_rng(seed)
    g, b = rng.uniform(0.5, 2, c), rng.normal(size=c)
    rm0, rv0 = rng.normal(size=c), rng.uniform(0.5, 2, c)
    bn = torch.nn.BatchNorm1d(c, momentum=momentum).double()
    with torch.no_grad():
        for t, v in ((bn.weight, g), (bn.bias, b), (bn.running_mean, rm0), (bn.running_var, rv0)):
            t.copy_(torch.from_numpy(v))
    if x.size // c < 2:
        return
    y, rm, rv = ref.batchnorm1d(x, g, b, rm0, rv0, training=True, momentum=momentum)
    close(y, bn.train()(torch.from_numpy(x)).detach())
    close(rm, bn.running_mean)
    close(rv, bn.running_var)
    close(ref.batchnorm1d(x, g, b, rm, rv, training=False)[0], bn.eval()(torch.from_numpy(x)).detach())


@FAST
@given(signals(), st.integers(1, 6), st.booleans(), st.integers(0, 1000))
def test_linear(x, out, with_bias, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(out, x.shape[-1]))
    b = rng.normal(size=out) if with_bias else None
    theirs = F.linear(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b))
    close(ref.linear(x, w, b), theirs)


def test_reference_module_imports_no_deep_learning_library():
    tree = ast.parse(Path(ref.__file__).read_text())
    names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not names & {"torch", "tensorflow", "jax", "keras"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_run_checks_all_pass_on_assignment_shapes(seed):
    x, f = ops_compare.make_inputs(seed)
    rows = ops_compare.run_checks(x, f, seed)
    assert all(r.ok for r in rows), [(r.op, r.max_abs_diff) for r in rows if not r.ok]
    assert {r.op.split("(")[0].split(" ")[0] for r in rows} >= {
        "MaxPool1d", "AvgPool1d", "conv1d", "Sigmoid", "BatchNorm1d", "Linear"}
    first = rows[0]
    assert first.in_shape == (1, 1, 32) and first.out_shape == (1, 1, 31)


def test_run_checks_reports_a_mismatch(monkeypatch):
    monkeypatch.setattr(ref, "sigmoid", lambda x: np.tanh(x))
    rows = ops_compare.run_checks(*ops_compare.make_inputs(0))
    bad = [r.op for r in rows if not r.ok]
    assert bad == ["Sigmoid"]


@pytest.mark.parametrize("shape,expect", [((32,), (1, 1, 32)), ((32, 1), (1, 1, 32)), ((1, 32), (1, 1, 32)),
                                          ((1, 1, 32), (1, 1, 32)), ((2, 3, 32), (2, 3, 32)),
                                          ((3, 32), (1, 3, 32))])
def test_input_shapes(shape, expect):
    assert tuple(ops_compare.as_signal(torch.zeros(shape)).shape) == expect


def test_filter_shapes_and_errors(tmp_path):
    assert tuple(ops_compare.as_filter(torch.zeros(3, 1), 1).shape) == (1, 1, 3)
    with pytest.raises(NnlabError, match="input channels"):
        ops_compare.as_filter(torch.zeros(2, 2, 3), 1)
    with pytest.raises(NnlabError):
        ops_compare.as_signal(torch.zeros(2, 2, 2, 2))
    with pytest.raises(NnlabError, match="no such file"):
        ops_compare.load_tensor(tmp_path / "nope.pt", "--input")
    junk = tmp_path / "junk.pt"
    junk.write_text("not a tensor")
    with pytest.raises(NnlabError, match="not a tensor"):
        ops_compare.load_tensor(junk, "--input")
    dct = tmp_path / "dict.pt"
    torch.save({"a": torch.zeros(3)}, dct)
    with pytest.raises(NnlabError, match="holds a dict"):
        ops_compare.load_tensor(dct, "--input")
    ok = tmp_path / "ok.pt"
    torch.save(torch.arange(32).reshape(32, 1), ok)
    assert ops_compare.load_tensor(ok, "--input").dtype == torch.float32


@pytest.mark.parametrize("length,k", [(2, 1), (2, 2), (32, 32), (5, 4)])
def test_run_checks_at_the_edges_of_input_and_filter_length(length, k):
    rows = ops_compare.run_checks(*ops_compare.make_inputs(0, length, k))
    assert rows and all(r.ok for r in rows), [(r.op, r.max_abs_diff) for r in rows if not r.ok]
