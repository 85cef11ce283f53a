"""Batch augmentation on the device: random translation (reflected at the border) and flips.

One gather moves every image of a batch at once; there is no per-sample Python loop and no
padded copy of the batch. Random numbers come from a CPU generator (seeded, so runs repeat
exactly) and only the N shifts and flips travel to the device.
"""

from __future__ import annotations

import torch


def _reflect(index: torch.Tensor, size: int) -> torch.Tensor:
    """Mirror indices that fall off either edge back inside [0, size)."""
    index = index.abs()
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def shift_flip(images: torch.Tensor, max_shift: int, flip: bool,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image (N, C, H, W) moved by its own random (dy, dx) in [-max_shift, max_shift]
    (border reflected, as a crop of a reflect-padded image would be) and, with `flip`,
    mirrored left-right with probability 1/2. Works on any dtype; uint8 is cheapest."""
    n, _, h, w = images.shape
    if n == 0 or (max_shift == 0 and not flip):
        return images
    shifts = torch.randint(-max_shift, max_shift + 1, (2, n), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    shifts, flips = shifts.to(images.device), flips.to(images.device)
    rows = _reflect(torch.arange(h, device=images.device) + shifts[0, :, None], h)  # (N, H)
    cols = torch.arange(w, device=images.device).expand(n, w)
    cols = torch.where(flips[:, None], w - 1 - cols, cols)
    cols = _reflect(cols + shifts[1, :, None], w)  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    moved = images[batch, :, rows[:, :, None], cols[:, None, :]]  # advanced indices first: (N, H, W, C)
    return moved.permute(0, 3, 1, 2)
