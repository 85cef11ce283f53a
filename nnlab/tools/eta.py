"""The bias-variance choice of the k-means learning rate η (last page of the k-means assignment).

With α = η/5 and batch size b, minibatch k-means has squared bias ((1−α)/α)² and variance
(1/b)·α²/(1−(1−α)²), both in units of a² (a, the mean pixel value, cancels). The balanced
η* solves bias² = variance; for b = 64 it is about 4.5, the assignment's choice.
"""

from __future__ import annotations

import numpy as np


def bias_squared(eta: np.ndarray | float) -> np.ndarray | float:
    """((1−α)/α)² with α = η/5."""
    alpha = np.asarray(eta, dtype=float) / 5.0
    return ((1.0 - alpha) / alpha) ** 2


def variance(eta: np.ndarray | float, batch_size: int) -> np.ndarray | float:
    """(1/b)·α²/(1−(1−α)²) with α = η/5."""
    alpha = np.asarray(eta, dtype=float) / 5.0
    return alpha ** 2 / (batch_size * (1.0 - (1.0 - alpha) ** 2))


def balanced_eta(batch_size: int, tol: float = 1e-12) -> float:
    """η* in (0, 5] where bias² = variance, by bisection.

    bias² − variance falls monotonically from +∞ (η → 0) to −1/b (η = 5), so the root is unique.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    lo, hi = 1e-9, 5.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if bias_squared(mid) > variance(mid, batch_size):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def curves(batch_size: int, points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(η, bias², variance) sampled over (0, 5] for plotting."""
    eta = np.linspace(0.5, 5.0, points)
    return eta, bias_squared(eta), variance(eta, batch_size)
