"""k-means as a network: question 1 of the k-means assignment, exactly as specified."""

from __future__ import annotations

import torch
from torch import nn


class KMeansNet(nn.Module):
    """k centres as one parameter; forward returns the reconstruction error.

    Layer i computes x·Cᵢ − ½‖Cᵢ‖², which is largest for the nearest centre; a sharp
    softmax (×temperature) makes that almost an argmax, and softmax·C picks the centre.
    Training MSE(error, 0) then pulls each centre toward the mean of its cell.
    """

    def __init__(self, k: int = 10, dim: int = 784, temperature: float = 20.0):
        super().__init__()
        self.centers = nn.Parameter(torch.zeros(k, dim))
        self.flatten = nn.Flatten()
        self.softmax = nn.Softmax(dim=1)
        self.temperature = temperature

    def scores(self, x0: torch.Tensor) -> torch.Tensor:
        """x·Cᵢ − ½‖Cᵢ‖² for every centre i."""
        return torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers ** 2, 1).flatten()  # (B, 784) @ (784, k) -> (B, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.flatten(x)  # (B, 1, 28, 28) -> (B, 784)
        x = self.softmax(self.temperature * self.scores(x0))  # (B, k)
        x = torch.matmul(x, self.centers)  # (B, k) @ (k, 784) -> (B, 784): the soft-chosen centre
        return x - x0  # reconstruction error
