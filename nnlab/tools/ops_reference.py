"""PyTorch's 1-D layers re-implemented in plain numpy (assignment question 4).

No deep-learning library is imported here: these are the "my_xxx_out" side of the comparison;
``ops_compare`` computes the torch side. Inputs follow torch's layout, (N, C, L) for signals and
(C_out, C_in, K) for conv filters; every function returns a new array.
"""

from __future__ import annotations

import numpy as np

from nnlab.tools.receptive import output_size  # pure arithmetic; imports no torch

__all__ = ["output_size", "maxpool1d", "avgpool1d", "conv1d", "sigmoid", "batchnorm1d", "linear"]


def _windows(length: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[np.ndarray, np.ndarray]:
    """Input index of every window tap, (L_out, k), and whether it falls inside the input."""
    n_out = output_size(length, d * (k - 1) + 1, s, p, ceil_mode)
    if n_out < 1:
        raise ValueError(f"input of length {length} is too short for kernel {k}, dilation {d}, padding {p}")
    idx = (np.arange(n_out) * s - p)[:, None] + (np.arange(k) * d)[None, :]  # (L_out, k)
    return idx, (idx >= 0) & (idx < length)


def _gather(x: np.ndarray, idx: np.ndarray, inside: np.ndarray, fill: float) -> np.ndarray:
    """x (N, C, L) -> (N, C, L_out, k) with ``fill`` where a tap lands in the padding."""
    taps = x[..., np.clip(idx, 0, x.shape[-1] - 1)]
    return np.where(inside, taps, fill)


def maxpool1d(x: np.ndarray, kernel_size: int = 2, stride: int | None = None, padding: int = 0,
              dilation: int = 1, ceil_mode: bool = False) -> np.ndarray:
    """torch.nn.MaxPool1d: the largest value per window; padding never wins (it is -inf)."""
    idx, inside = _windows(x.shape[-1], kernel_size, stride or kernel_size, padding, dilation, ceil_mode)
    return _gather(x, idx, inside, -np.inf).max(axis=-1)  # (N, C, L_out, k) -> (N, C, L_out)


def avgpool1d(x: np.ndarray, kernel_size: int = 2, stride: int | None = None, padding: int = 0,
              ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
    """torch.nn.AvgPool1d: window sums over a divisor that counts padding or not.

    Torch's divisor with ``count_include_pad`` is the window clipped to the *padded* input
    (so a ceil_mode window hanging past the right padding is not divided by the full k).
    """
    s = stride or kernel_size
    length = x.shape[-1]
    idx, inside = _windows(length, kernel_size, s, padding, 1, ceil_mode)
    sums = _gather(x, idx, inside, 0.0).sum(axis=-1)            # (N, C, L_out)
    start = idx[:, 0]
    padded_end = np.minimum(start + kernel_size, length + padding)
    if count_include_pad:
        divisor = padded_end - start
    else:
        divisor = np.minimum(padded_end, length) - np.maximum(start, 0)
    return sums / divisor


def conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 0, dilation: int = 1) -> np.ndarray:
    """torch.nn.functional.conv1d with groups=1: cross-correlation (the kernel is not flipped)."""
    c_out, c_in, k = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(f"input has {x.shape[1]} channels but the filter expects {c_in}")
    idx, inside = _windows(x.shape[-1], k, stride, padding, dilation, False)
    taps = _gather(x, idx, inside, 0.0)                          # (N, C_in, L_out, K), zero padding
    out = np.einsum("nclk,ock->nol", taps, weight)               # sum over C_in and K -> (N, C_out, L_out)
    if bias is not None:
        out = out + bias[None, :, None]
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), evaluated on each side of 0 separately so exp never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def batchnorm1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, running_mean: np.ndarray,
                running_var: np.ndarray, training: bool = True, momentum: float = 0.1,
                eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.nn.BatchNorm1d on (N, C) or (N, C, L); returns (y, new running_mean, new running_var).

    Training normalises with the batch's biased variance but feeds the *unbiased* one into the
    running estimate, as torch does; eval mode uses the running statistics and updates nothing.
    """
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    if training:
        n = x.size // x.shape[1]  # values per channel
        if n < 2:
            raise ValueError("batch norm in training mode needs more than 1 value per channel")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)                                   # biased: divides by n
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * weight.reshape(shape) + bias.reshape(shape), running_mean, running_var


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """torch.nn.Linear: x @ W^T + b over the last axis; (..., in) -> (..., out)."""
    out = x @ weight.T
    return out + bias if bias is not None else out
