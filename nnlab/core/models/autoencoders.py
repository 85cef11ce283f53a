"""Dense autoencoders and the interface every nnlab autoencoder shares.

An autoencoder here offers `encode(x) -> z`, `codes(x)` (everything the decoder needs, z
first: skip models add their feature maps) and `decode(*codes) -> (B, 1, 28, 28)`, so the
experiments draw reconstructions, latent scatters and decoded mean codes the same way for
every architecture. Models that can generate also offer `sample(n)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "none": nn.Identity}


class Autoencoder(nn.Module):
    """Base class: subclasses define `encoder`, `decoder` (or override encode/decode)."""

    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    can_sample = False

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding z of images x: (B, 1, 28, 28) -> (B, latent_dim)."""
        return self.encoder(x)

    def codes(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """All the decoder needs to rebuild x; z comes first."""
        return (self.encode(x),)

    def decode(self, z: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        """Images from codes: (B, latent_dim) -> (B, 1, 28, 28)."""
        return self.decoder(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic reconstruction of x (no sampling noise)."""
        return self.decode(*self.codes(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)

    def sample(self, n: int) -> torch.Tensor:
        """n generated images (n, 1, 28, 28) from the global RNG; only models with `can_sample`."""
        raise NotImplementedError(f"{type(self).__name__} is not a generative model")


@dataclass(frozen=True)
class DenseSpec:
    """A dense autoencoder: the encoder's widths (input first), the latent size, activations."""

    widths: tuple[int, ...]  # e.g. (784, 196, 49): the encoder's layer inputs
    latent: int
    hidden: str = "relu"  # after every hidden layer, in encoder and decoder
    latent_act: str = "none"  # on the embedding itself ("none": linear into and out of z)
    output: str = "sigmoid"  # on the reconstruction


def _stack(sizes: Sequence[int], hidden: str, last: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        act = hidden if i < len(sizes) - 2 else last
        if act != "none":
            layers.append(ACTIVATIONS[act]())
    return layers


class DenseAutoencoder(Autoencoder):
    """Linear layers down to the latent and a mirrored stack back up to 784 pixels."""

    def __init__(self, spec: DenseSpec):
        super().__init__()
        self.spec = spec
        self.latent_dim = spec.latent
        sizes = list(spec.widths) + [spec.latent]
        self.encoder = nn.Sequential(nn.Flatten(), *_stack(sizes, spec.hidden, spec.latent_act))
        self.decoder = nn.Sequential(*_stack(sizes[::-1], spec.hidden, spec.output),
                                     nn.Unflatten(1, IMAGE_SHAPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)  # (B, 1, 28, 28) -> (B, 784) -> ... -> (B, latent)
        return self.decoder(z)  # (B, latent) -> ... -> (B, 784) -> (B, 1, 28, 28)


# ---- the seeds' presets --------------------------------------------------------------------

DENSE_PRESETS: dict[str, DenseSpec] = {
    # cnn-ae-cae problem 5.4: four Linear+ReLU down to 2-D, nothing nonlinear at the embedding
    "mlp4": DenseSpec((IMAGE_SIZE, 256, 64, 16), 2, "relu", "none", "sigmoid"),
    # fashion-mlp-landscape-ae problem 4: 784-128-64 (ReLU bottleneck), sigmoid output
    "shallow": DenseSpec((IMAGE_SIZE, 128), 64, "relu", "relu", "sigmoid"),
    # adam-ae question 2.1: 784-196-49-λ-49-196-784, ReLU after every layer, output included
    "funnel": DenseSpec((IMAGE_SIZE, 196, 49), 2, "relu", "relu", "relu"),
    # cnn-ae-cae problem 5.3: one Linear down to K and one back, no activation anywhere (PCA's rival)
    "linear": DenseSpec((IMAGE_SIZE,), 8, "none", "none", "none"),
}
