"""Push one batch of Gaussian inputs through a deep fully connected net and measure every layer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nnlab.tools.init_schemes import bias_variance, init_linear_, theory_variances, weight_variance

NAMES = {"he": "He", "xavier": "Xavier", "lecun": "LeCun", "default": "PyTorch default"}


@dataclass(frozen=True)
class SchemeResult:
    """Per-layer measurements (index 0 is layer 1) and the theory, for one scheme."""

    scheme: str
    label: str  # what tables and plots call it
    weight_variance: float
    bias_variance: float
    var_z: list[float]  # measured Var[z^l] over all units and inputs
    mean_z: list[float]
    second_moment_x: list[float]  # measured E[x_l²]; x_1 is the input, x_l = φ(z^(l-1))
    theory_var_z: list[float]  # the mean-field recursion

    def half_var_z_prev(self) -> list[float]:
        """Var[z^(l-1)]/2 for l = 2..depth, to compare with second_moment_x[1:]."""
        return [v / 2.0 for v in self.var_z[:-1]]


def gaussian_inputs(batch: int, width: int, seed: int) -> torch.Tensor:
    """(batch, width) inputs x ~ N(0, I): the same for every scheme."""
    return torch.randn(batch, width, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def propagate(inputs: torch.Tensor, scheme: str, activation: str, depth: int, *, std: float | None = None,
              seed: int = 0) -> SchemeResult:
    """Measure Var[z^l], E[z^l] and E[x_l²] layer by layer under `scheme`.

    Each scheme draws its weights from a generator seeded with `seed`, so the Gaussian schemes
    differ only in scale: what changes from one to the next is the variance, nothing else.
    """
    width = inputs.shape[1]
    phi = torch.relu if activation == "relu" else torch.tanh
    generator = torch.Generator().manual_seed(seed + 1)  # not the inputs' stream
    layer = nn.Linear(width, width, dtype=torch.float64)  # float64: --std 1 grows Var[z] ~256x a layer
    x = inputs.double()
    var_z, mean_z, second = [], [], []
    for _ in range(depth):
        init_linear_(layer, scheme, std, generator)
        z = layer(x)  # (B, n) @ (n, n) -> (B, n)
        second.append(float(x.pow(2).mean()))
        var_z.append(float(z.var(unbiased=False)))
        mean_z.append(float(z.mean()))
        x = phi(z)
    w_var = weight_variance(scheme, width, width, std)
    b_var = bias_variance(scheme, width)
    theory = theory_variances(activation, depth, width, w_var, b_var, input_second_moment=1.0)
    return SchemeResult(scheme, f"N(0, {std:g}²)" if scheme == "std" else NAMES[scheme], w_var, b_var,
                        var_z, mean_z, second, theory)
