"""Settings of `nnlab init`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from nnlab.experiments.base import Seeded, option
from nnlab.tools.init_schemes import ACTIVATIONS


@dataclass(frozen=True, kw_only=True)
class InitConfig(Seeded):
    """Why He initialisation: push Gaussian inputs through a deep net and measure Var\\[z^l] per layer.

    Every layer is Linear(width, width) with zero biases (PyTorch's default draws its own biases),
    followed by ReLU or tanh. The schemes: He N(0, 2/n), Xavier/Glorot N(0, 2/(n_in + n_out)),
    LeCun N(0, 1/n), PyTorch's default U(±1/√n) (variance 1/(3n)), and N(0, std²) with --std.
    Beside each measured Var\\[z^l] stands the mean-field prediction
    Var\\[z^l] = n Var\\[w] E\\[x_l²] + Var\\[b]; E\\[x_l²] is measured against Var\\[z^(l-1)]/2,
    the identity problem 1.3 proves for ReLU.
    Prints both tables and a log-y plot; saves the plot as PNG and every number as CSV.
    """

    depth: int = option(20, "Number of layers.", min=1, max=500)
    width: int = option(512, "Units per layer (and input dimension) n.", min=1, max=4096)
    activation: str = option("relu", "relu or tanh.", choices=ACTIVATIONS)
    batch: int = option(256, "Gaussian inputs x ~ N(0, I) pushed through.", min=2, max=65_536)
    std: float | None = option(None, "Also try weights N(0, std²) with this std.", min=0, min_open=True, max=100,
                               default_text="")
