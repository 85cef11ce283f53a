"""The torch side of ``ops-check``: run each layer in torch and in ``ops_reference`` and compare.

Kept apart from ``ops_reference`` so that module never imports a deep-learning library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnlab.core.checkpoints import load_weights
from nnlab.errors import NnlabError
from nnlab.tools import ops_reference as ref

__all__ = ["OpRow", "load_tensor", "as_signal", "as_filter", "make_inputs", "run_checks"]

ATOL = RTOL = 1e-5  # float32 torch against float64 numpy: differences are ~1e-7


@dataclass(frozen=True)
class OpRow:
    """One comparison: ``ours`` (numpy) and ``theirs`` (torch) are kept for the run's artifacts."""

    op: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    max_abs_diff: float
    ok: bool
    ours: np.ndarray
    theirs: np.ndarray


def load_tensor(path: Path, what: str) -> torch.Tensor:
    """``torch.load(path, weights_only=True)`` with one clear NnlabError for every way it can fail."""
    obj = load_weights(path, what)
    if not isinstance(obj, torch.Tensor):
        raise NnlabError(f"{what}: {path} holds a {type(obj).__name__}, expected a tensor")
    if not obj.is_floating_point():
        obj = obj.float()
    return obj


def as_signal(t: torch.Tensor) -> torch.Tensor:
    """Size-1 dims dropped, then (L,) -> (1, 1, L), (C, L) -> (1, C, L); (N, C, L) as is.

    So the assignment's "32x1" input works whether it was saved as (32,), (32, 1) or (1, 1, 32).
    """
    core = t.squeeze() if t.dim() != 3 else t
    if core.dim() == 0:
        core = core.reshape(1)  # a single value: a signal of length 1 (too short, said by the caller)
    if core.dim() > 3:
        raise NnlabError(f"--input must be a 1-D signal, (C, L) or (N, C, L); got shape {tuple(t.shape)}")
    while core.dim() < 3:
        core = core.unsqueeze(0)
    return core


def as_filter(t: torch.Tensor, channels: int) -> torch.Tensor:
    """(K,) or (K, 1) -> (1, 1, K); a 3-D (C_out, C_in, K) filter as is. Checks C_in."""
    core = t if t.dim() == 3 else t.squeeze()
    if core.dim() == 1:
        core = core.reshape(1, 1, -1)
    if core.dim() != 3:
        raise NnlabError(f"--filter must be (K,) or (C_out, C_in, K); got shape {tuple(t.shape)}")
    if core.shape[1] != channels:
        raise NnlabError(f"--filter expects {core.shape[1]} input channels but --input has {channels}")
    return core


def make_inputs(seed: int, length: int = 32, k: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """The assignment's shapes from a seed: a (1, 1, 32) signal and a (1, 1, 3) filter, float32."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(1, 1, length, generator=gen), torch.randn(1, 1, k, generator=gen)


def _row(op: str, x: torch.Tensor, ours: np.ndarray, theirs: torch.Tensor) -> OpRow:
    t = theirs.detach().double().numpy()
    if ours.shape != t.shape:
        return OpRow(op, tuple(x.shape), tuple(t.shape), float("inf"), False, ours, t)
    diff = float(np.max(np.abs(ours - t))) if t.size else 0.0
    return OpRow(op, tuple(x.shape), tuple(t.shape), diff, diff <= ATOL + RTOL * float(np.max(np.abs(t), initial=0)),
                 ours, t)


def run_checks(x: torch.Tensor, filt: torch.Tensor, seed: int = 0, out_features: int = 8) -> list[OpRow]:
    """Every op of question 4 in torch and numpy. x is (N, C, L), filt (C_out, C, K).

    Besides the assignment's settings, a few rows exercise padding, stride, dilation, bias and
    count_include_pad=False, which the assignment's defaults leave untested.
    """
    n, c, length = x.shape
    xn = x.detach().double().numpy()
    fn = filt.detach().double().numpy()
    gen = torch.Generator().manual_seed(seed)
    bias = torch.randn(filt.shape[0], generator=gen, dtype=x.dtype)
    rows = [
        _row("MaxPool1d(k=2, s=1)", x, ref.maxpool1d(xn, 2, 1), nn.MaxPool1d(2, 1)(x)),
        _row("AvgPool1d(k=2, s=1)", x, ref.avgpool1d(xn, 2, 1), nn.AvgPool1d(2, 1)(x)),
        _row("AvgPool1d(k=2, s=1, p=1, count_include_pad=False)", x,
             ref.avgpool1d(xn, 2, 1, 1, count_include_pad=False),
             nn.AvgPool1d(2, 1, 1, count_include_pad=False)(x)),
        _row("conv1d(x, filter)", x, ref.conv1d(xn, fn), F.conv1d(x, filt)),
        _row("Sigmoid", x, ref.sigmoid(xn), nn.Sigmoid()(x)),
    ]
    if ref.output_size(length, 2 * (filt.shape[-1] - 1) + 1, 2, 2, False) >= 1:  # long filters: no room
        rows.insert(4, _row("conv1d(s=2, p=2, d=2, bias)", x, ref.conv1d(xn, fn, bias.double().numpy(), 2, 2, 2),
                            F.conv1d(x, filt, bias, stride=2, padding=2, dilation=2)))
    # ---- batch norm: training step (output and running stats), then eval with the new stats ----
    bn = nn.BatchNorm1d(c).to(x.dtype)
    with torch.no_grad():  # random affine parameters, so gamma and beta are checked too
        bn.weight.copy_(torch.rand(c, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(c, generator=gen))
    g, b = bn.weight.detach().double().numpy(), bn.bias.detach().double().numpy()
    if n * length > 1:
        y, rm, rv = ref.batchnorm1d(xn, g, b, np.zeros(c), np.ones(c), training=True)
        ty = bn.train()(x)
        rows.append(_row("BatchNorm1d train", x, y, ty))
        rows.append(_row("BatchNorm1d running_mean", bn.running_mean, rm, bn.running_mean))
        rows.append(_row("BatchNorm1d running_var", bn.running_var, rv, bn.running_var))
        y_eval = ref.batchnorm1d(xn, g, b, rm, rv, training=False)[0]
        rows.append(_row("BatchNorm1d eval", x, y_eval, bn.eval()(x)))
    # ---- linear over the last axis ----
    lin = nn.Linear(length, out_features).to(x.dtype)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(out_features, length, generator=gen) / length ** 0.5)
        lin.bias.copy_(torch.randn(out_features, generator=gen))
    rows.append(_row(f"Linear({length}, {out_features})", x,
                     ref.linear(xn, lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()),
                     lin(x)))
    return rows
