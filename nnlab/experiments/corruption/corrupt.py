"""Corruption processes C(x̃|x) on 2-D points, each with its formula in words.

σ is one knob for all three: the noise's standard deviation (gaussian), or the probability that a
coordinate is hit (masking, salt-pepper). Coordinates are corrupted independently.
"""

from __future__ import annotations

import torch

from nnlab.experiments.corruption.config import CORRUPTIONS

FORMULAS = {
    "gaussian": "x̃ = x + ε, ε ~ N(0, σ² I):  C(x̃|x) = N(x̃; x, σ² I),  σ = {sigma:g}",
    "masking": ("x̃_i = m_i x_i, m_i ~ Bernoulli(1 - σ):  C(x̃_i|x_i) = (1 - σ) δ(x̃_i - x_i) + σ δ(x̃_i),  "
                "σ = {sigma:g} (each coordinate zeroed with probability σ)"),
    "salt-pepper": ("C(x̃_i|x_i) = (1 - σ) δ(x̃_i - x_i) + σ/2 δ(x̃_i - lo_i) + σ/2 δ(x̃_i - hi_i),  "
                    "σ = {sigma:g}; "
                    "lo, hi: each coordinate's range over the clean data ({lo}, {hi})"),
}


def formula(kind: str, sigma: float, lo: torch.Tensor, hi: torch.Tensor) -> str:
    """The process as a formula, with its numbers filled in."""
    def vec(v: torch.Tensor) -> str:
        return "(" + ", ".join(f"{x:.3g}" for x in v.tolist()) + ")"

    return FORMULAS[kind].format(sigma=sigma, lo=vec(lo), hi=vec(hi))


class Corruption:
    """C(x̃|x) for one kind and σ; `lo` and `hi` (the clean data's per-coordinate range) serve salt-pepper."""

    def __init__(self, kind: str, sigma: float, lo: torch.Tensor, hi: torch.Tensor):
        if kind not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {kind!r}")
        self.kind, self.sigma, self.lo, self.hi = kind, sigma, lo, hi

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """x̃ ~ C(·|x) for a (B, 2) batch, drawn from `generator` (a whole batch at once)."""
        if self.kind == "gaussian":
            return x + self.sigma * torch.randn(x.shape, generator=generator).to(x)
        hit = torch.rand(x.shape, generator=generator).to(x.device) < self.sigma
        if self.kind == "masking":
            return torch.where(hit, torch.zeros_like(x), x)
        salt = torch.rand(x.shape, generator=generator).to(x.device) < 0.5
        replacement = torch.where(salt, self.hi.to(x).expand_as(x), self.lo.to(x).expand_as(x))
        return torch.where(hit, replacement, x)

    def formula(self) -> str:
        """The formula of this process."""
        return formula(self.kind, self.sigma, self.lo, self.hi)
