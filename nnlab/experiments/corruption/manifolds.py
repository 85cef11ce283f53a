"""The clean 2-D datasets: points sampled on a curve, the curve itself, and distances to it.

Each curve is kept as dense polylines; the distance from a point to the curve is its distance to
the nearest segment. With POLYLINE_POINTS vertices the polyline is within curvature·h²/8 of the
true curve (h the vertex spacing): at most 1.3e-6 (the circle), far below any corruption studied.
"""

from __future__ import annotations

import math

import numpy as np
import torch

POLYLINE_POINTS = 2001
CHUNK = 512  # points per block of the point-to-segment distances: CHUNK x segments floats at a time

DESCRIPTIONS = {
    "parabola": "y = x² for x ~ U[-1, 1]",
    "circle": "the unit circle (cos θ, sin θ), θ ~ U[0, 2π)",
    "moons": "two interleaved half circles: (cos t, sin t) and (1 - cos t, 0.5 - sin t), t ~ U[0, π]",
}


def sample(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) float32 points on the named curve."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    if name == "parabola":
        x = 2 * u - 1
        points = torch.stack([x, x * x], dim=1)
    elif name == "circle":
        theta = 2 * math.pi * u
        points = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
    elif name == "moons":
        t = math.pi * u
        lower = torch.rand(n, generator=generator) < 0.5
        points = torch.where(lower[:, None], torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1),
                             torch.stack([torch.cos(t), torch.sin(t)], dim=1))
    else:
        raise ValueError(f"unknown dataset {name!r}")
    return points.float()


def polylines(name: str) -> list[np.ndarray]:
    """The curve as (M, 2) float64 polylines (two for the moons)."""
    if name == "parabola":
        x = np.linspace(-1.0, 1.0, POLYLINE_POINTS)
        return [np.stack([x, x * x], axis=1)]
    t = np.linspace(0.0, math.pi if name == "moons" else 2 * math.pi, POLYLINE_POINTS)
    if name == "circle":
        return [np.stack([np.cos(t), np.sin(t)], axis=1)]
    return [np.stack([np.cos(t), np.sin(t)], axis=1), np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)]


def distance_to_curve(points: np.ndarray, name: str) -> np.ndarray:
    """(N,) Euclidean distance from each (N, 2) point to the named curve."""
    points = np.asarray(points, dtype=np.float64)
    starts = np.concatenate([line[:-1] for line in polylines(name)])
    ends = np.concatenate([line[1:] for line in polylines(name)])
    seg = ends - starts  # (M, 2)
    seg_len2 = np.einsum("md,md->m", seg, seg)
    out = np.empty(len(points))
    for i in range(0, len(points), CHUNK):
        p = points[i:i + CHUNK, None, :]  # (C, 1, 2)
        t = np.clip(np.einsum("cmd,md->cm", p - starts, seg) / seg_len2, 0.0, 1.0)  # projection onto each segment
        nearest = starts + t[..., None] * seg  # (C, M, 2)
        out[i:i + CHUNK] = np.sqrt(((p - nearest) ** 2).sum(-1).min(axis=1))
    return out
