"""The embedded `digits` dataset: scikit-learn's 8x8 digits, made MNIST-shaped.

It ships with scikit-learn, so it needs no network: a stand-in for MNIST on a fresh
offline machine. Each 8x8 image (values 0..16) is upscaled bilinearly to 20x20 and centred
in a 28x28 frame, as MNIST centres its digits in a 20x20 box.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nnlab.core.data.splits import Dataset, Split

SPLIT_SEED = 0  # fixed: the train/test split is part of the dataset, not of a run
TEST_FRACTION = 0.2


def load_digits_28() -> Dataset:
    """The digits dataset as a `Dataset` of uint8 (N, 1, 28, 28) images with a fixed split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    big = F.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False)
    framed = F.pad(big, (4, 4, 4, 4))  # (N, 1, 28, 28)
    images = (framed.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.tensor(bunch.target, dtype=torch.long)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test = int(len(labels) * TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return Dataset("digits", Split(images[train], labels[train]), Split(images[test], labels[test]),
                   [str(d) for d in range(10)], "embedded (scikit-learn digits)")
