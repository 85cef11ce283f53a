"""What training an image classifier needs besides its model: standardised inputs and the objective.

Shared by the classifiers (cnn, mlp, mlp tune) and the loss landscape, which trains the same MLP.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from nnlab.core.data import Split
from nnlab.core.metrics import accuracy
from nnlab.core.models.classifiers import l2_penalty
from nnlab.core.train import Objective


def standardiser(split: Split):
    """A per-batch transform uint8 -> float with the split's pixel mean 0 and std 1."""
    pixels = split.images.float().div(255.0)
    mean, std = pixels.mean().item(), pixels.std().item()

    def transform(images: torch.Tensor) -> torch.Tensor:
        return (images.float().div_(255.0) - mean) / std

    return transform


def classification_objective(l2: float = 0.0, label_smoothing: float = 0.0, flip_tta: bool = False) -> Objective:
    """Cross-entropy (+ L2 on weight matrices); extras: accuracy and, with L2 or smoothing, the bare cross-entropy.

    `label_smoothing` ε trains towards (1−ε)·one-hot + ε/classes. With `flip_tta`, a model in
    eval mode is scored on the mean logits of each image and its left-right mirror.
    """

    def objective(model: nn.Module, images: torch.Tensor, labels: torch.Tensor):
        logits = model(images)  # (B, classes)
        if flip_tta and not model.training:
            logits = (logits + model(images.flip(-1))) / 2  # a mirrored garment is as likely as the garment
        if l2 == 0 and label_smoothing == 0:
            return F.cross_entropy(logits, labels), {"acc": accuracy(logits, labels)}
        ce = F.cross_entropy(logits, labels)
        loss = F.cross_entropy(logits, labels, label_smoothing=label_smoothing) if label_smoothing else ce
        if l2:
            loss = loss + l2_penalty(model, l2)
        return loss, {"acc": accuracy(logits, labels), "ce": ce.detach()}

    return objective
