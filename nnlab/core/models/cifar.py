"""A fast CIFAR-10 network in the airbench / ResNet-9 family, written from scratch.

    whitening (frozen 2x2 conv, 24 ch) -> GELU
    3 x [conv 3x3 -> max-pool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU]   widths 64/256/256
    max-pool 3 -> linear (no bias) -> x logit_scale

Spatially 32 -> 31 (whitening, no padding) -> 15 -> 7 -> 3 -> 1.
"""

from __future__ import annotations

import torch
from torch import nn


class Fp32BatchNorm(nn.BatchNorm2d):
    """Batch norm computed in float32 even when activations are float16/bfloat16.

    Low-precision batch statistics (a mean over B*H*W values) lose digits; the cast is
    cheap next to the convolutions and torch.compile fuses it away. The scale is frozen
    at 1: the conv after each BN makes it redundant, and only the shift then trains
    (at a raised learning rate, see `param_groups`).
    """

    def __init__(self, channels: int, momentum: float = 0.4, eps: float = 1e-12):
        super().__init__(channels, momentum=momentum, eps=eps)
        self.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype in (torch.float16, torch.bfloat16):
            return super().forward(x.float()).to(x.dtype)
        return super().forward(x)


class PatchWhitening(nn.Conv2d):
    """A frozen k x k conv whose filters whiten image patches (PCA, both signs of each component).

    `fit(images)` sets the filters from the training images' patch covariance: component
    v with variance λ becomes filters ±v/√(λ+eps), so the first layer hands on decorrelated,
    unit-variance patch features and never trains.
    """

    def __init__(self, in_channels: int = 3, patch: int = 2, eps: float = 5e-4):
        dim = in_channels * patch * patch
        super().__init__(in_channels, 2 * dim, patch, bias=False)
        self.eps = eps
        self.weight.requires_grad_(False)

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> None:
        """Set the filters from float images (N, C, H, W), normalised as the network will see them."""
        k = self.kernel_size[0]
        patches = images.float().unfold(2, k, 1).unfold(3, k, 1)  # (N, C, H', W', k, k)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, self.in_channels * k * k)  # (M, D)
        patches = patches - patches.mean(0)
        cov = (patches.T @ patches / len(patches)).double().cpu()  # (D, M) @ (M, D) -> (D, D), on the device
        eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # float64: the small eigenvalues matter
        filters = eigenvectors.T / (eigenvalues.clamp_min(0) + self.eps).sqrt()[:, None]  # (D, D)
        filters = filters.reshape(-1, self.in_channels, k, k)
        self.weight.copy_(torch.cat([filters, -filters]).to(self.weight))


class ConvBlock(nn.Sequential):
    """conv -> pool -> BN -> GELU -> conv -> BN -> GELU: halves the size, sets the width."""

    def __init__(self, c_in: int, c_out: int, bn_momentum: float = 0.4):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.MaxPool2d(2),  # pooling before BN normalises 4x fewer values
            Fp32BatchNorm(c_out, bn_momentum),
            nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            Fp32BatchNorm(c_out, bn_momentum),
            nn.GELU(),
        )


class CifarNet(nn.Module):
    """The network; `logit_scale` keeps initial logits small so early softmax outputs stay soft."""

    def __init__(self, widths: tuple[int, ...] = (64, 256, 256), num_classes: int = 10,
                 logit_scale: float = 1 / 9, bn_momentum: float = 0.4):
        super().__init__()
        self.whiten = PatchWhitening(3, 2)
        blocks: list[nn.Module] = [self.whiten, nn.GELU()]
        c_in = self.whiten.out_channels
        for width in widths:
            blocks.append(ConvBlock(c_in, width, bn_momentum))
            c_in = width
        self.layers = nn.Sequential(*blocks, nn.MaxPool2d(3), nn.Flatten(), nn.Linear(c_in, num_classes, bias=False))
        self.logit_scale = logit_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x) * self.logit_scale  # (B, 3, 32, 32) -> (B, classes)


def param_groups(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(batch-norm shifts, every other trainable parameter): the optimizer's two groups."""
    norm = {id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [p for p in trainable if id(p) in norm], [p for p in trainable if id(p) not in norm]
