"""Classifiers for 28x28 images: the MNIST CNN (problem 4.2) and the Fashion-MNIST MLP (problem 2)."""

from __future__ import annotations

import torch
from torch import nn

MLP_VARIANTS = ("base", "batchnorm", "dropout", "leakyrelu", "elu", "prelu")


class CNN(nn.Module):
    """Two conv blocks and two dense layers; the first convolution has 40 filters (5x5).

    An assumption: the seed's prob4_CNN.py skeleton is missing, and the seed fixes only the
    40 first-layer filters. The second convolution is kept small (32 filters, 3x3) so 5
    epochs take minutes on a laptop CPU; with Adam at 1e-3 the network still passes 99%
    MNIST test accuracy.
    """

    def __init__(self, filters: int = 40, classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, filters, kernel_size=5)
        self.conv2 = nn.Conv2d(filters, 32, kernel_size=3)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, classes)
        self.dropout = nn.Dropout(0.25)  # the dense head overfits MNIST within 5 epochs without it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) images -> (B, classes) logits."""
        x = self.pool(torch.relu(self.conv1(x)))  # (B, 1, 28, 28) -> (B, 40, 24, 24) -> (B, 40, 12, 12)
        x = self.pool(torch.relu(self.conv2(x)))  # -> (B, 32, 10, 10) -> (B, 32, 5, 5)
        x = torch.relu(self.fc1(x.flatten(1)))  # (B, 800) -> (B, 128)
        return self.fc2(self.dropout(x))  # (B, 128) -> (B, classes)


def _activation(variant: str) -> nn.Module:
    return {"leakyrelu": nn.LeakyReLU(0.01), "elu": nn.ELU(), "prelu": nn.PReLU()}.get(variant, nn.ReLU())


class MLP(nn.Module):
    """f: R^784 -> R^10 with `layers` hidden layers of `units` units.

    `variant` swaps in the bonus changes: batchnorm (Linear -> BatchNorm -> ReLU), dropout
    (after each hidden ReLU), or another activation (leakyrelu, elu, prelu). `dropout` is
    the rate after each hidden activation, for any variant (None: 0.1 for the dropout
    variant, else none). The softmax is left to the loss, so forward returns logits z^(l).
    """

    def __init__(self, layers: int = 3, units: int = 50, variant: str = "base", inputs: int = 784,
                 classes: int = 10, dropout: float | None = None):
        super().__init__()
        if variant not in MLP_VARIANTS:
            raise ValueError(f"unknown MLP variant {variant!r}")
        rate = (0.1 if variant == "dropout" else 0.0) if dropout is None else dropout
        blocks: list[nn.Module] = [nn.Flatten()]
        width = inputs
        for _ in range(layers):
            blocks.append(nn.Linear(width, units))
            if variant == "batchnorm":
                blocks.append(nn.BatchNorm1d(units))
            blocks.append(_activation(variant))
            if rate > 0:
                blocks.append(nn.Dropout(rate))
            width = units
        blocks.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) or (B, 784) -> (B, classes) logits."""
        return self.net(x)


def weight_matrices(model: nn.Module) -> list[nn.Parameter]:
    """The parameters L2 applies to: the Linear/Conv weight tensors, never biases, norms or PReLU slopes."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def l2_penalty(model: nn.Module, strength: float) -> torch.Tensor:
    """strength/2 · Σ‖W‖² over the weight matrices; its gradient is strength·W, i.e. weight decay."""
    return 0.5 * strength * sum(w.pow(2).sum() for w in weight_matrices(model))
