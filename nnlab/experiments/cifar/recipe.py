"""The fast-trainer recipe's pieces for CIFAR-10 (question 5.1), each explained in the README.

Balanced subsets and their training plan, the normalising pipeline, autocast precision,
label-smoothed cross-entropy with flip test-time augmentation, the warm-up/decay schedule
and Nesterov SGD with a raised learning rate for batch-norm shifts.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from nnlab.core.data import Batches
from nnlab.core.metrics import accuracy
from nnlab.core.models.cifar import param_groups
from nnlab.errors import NnlabError
from nnlab.experiments.cifar.config import CifarConfig

WARMUP_START, FINAL_LR = 0.2, 0.07  # lr multipliers at step 0 and at the last step
SMALL_PER_CLASS = 100  # at or below this many images per class, shift augmentation is doubled


# ---- which images, in what batches -------------------------------------------------------

def balanced_subset(labels: torch.Tensor, per_class: int | None, classes: int, seed: int) -> torch.Tensor:
    """Indices of `per_class` seeded random examples of each class (all of them for None)."""
    if per_class is None:
        return torch.arange(len(labels))
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    picks = []
    for c in range(classes):
        members = torch.nonzero(labels == c).flatten()
        if len(members) < per_class:
            raise NnlabError(f"--subset-per-class {per_class}: class {c} has only {len(members)} training images")
        picks.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(picks).sort().values


def subset_plan(config: CifarConfig, n_full: int, per_class: int | None, world_size: int) -> dict:
    """Batch size, tiling and shift for training on `per_class` images of each class.

    A subset smaller than a batch trains full-batch; its images are tiled so that an epoch
    takes as many steps as an epoch of the full training set (a 10-image run would otherwise
    take 10 steps in all); up to 100 per class, shifts of up to 4 pixels instead of 2 make
    the few images go further. The learning rate follows the batch size (per 1024 images).
    """
    if per_class is None:
        return {"batch_size": config.batch_size, "repeats": 1, "translate": config.translate}
    n = per_class * 10
    batch = max(world_size, min(config.batch_size, n) // world_size * world_size)
    full_steps = math.ceil(n_full / config.batch_size)
    repeats = max(1, math.ceil(full_steps / math.ceil(n / batch)))
    translate = max(config.translate, 4) if per_class <= SMALL_PER_CLASS else config.translate
    return {"batch_size": batch, "repeats": repeats, "translate": translate}


# ---- inputs and precision ---------------------------------------------------------------

@dataclass(frozen=True)
class Pipeline:
    """uint8 batches -> normalised float batches, in the memory layout the model wants."""

    mean: torch.Tensor  # (1, 3, 1, 1)
    std: torch.Tensor
    layout: torch.memory_format

    @classmethod
    def fit(cls, images: torch.Tensor, device: torch.device, channels_last: bool) -> "Pipeline":
        """Per-channel statistics of training images (uint8); 10,000 are plenty for 6 numbers."""
        x = images.float() / 255  # (N, 3, 32, 32)
        mean, std = x.mean((0, 2, 3), keepdim=True), x.std((0, 2, 3), keepdim=True).clamp_min(1e-3)
        return cls(mean.to(device), std.to(device), torch.channels_last if channels_last else torch.contiguous_format)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.float() / 255 - self.mean) / self.std
        return x.contiguous(memory_format=self.layout)


def _autocast(device: torch.device, precision: str):
    """The autocast context for `precision` ('auto' resolved), or a null context for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> bf16 on CUDA GPUs that have it, fp16 on older ones, fp32 off CUDA."""
    if precision != "auto":
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


@torch.no_grad()
def predict(net, batches: Batches, tta: bool, device: torch.device, precision: str) -> torch.Tensor:
    """Predicted classes (on the CPU) for every batch, in eval mode, with flip TTA if asked."""
    was_training = net.training
    net.eval()
    out = []
    for images, _ in batches:
        with _autocast(device, precision):
            logits = net(images)
            if tta:
                logits = logits + net(images.flip(-1))
        out.append(logits.argmax(1))
    net.train(was_training)
    return torch.cat(out).cpu()


# ---- objective, schedule, optimizer -------------------------------------------------------

def make_objective(config: CifarConfig, device: torch.device, precision: str, counter: dict):
    """Label-smoothed cross-entropy; in eval mode with flip TTA. Extras: accuracy, plain xent."""
    eps = config.label_smoothing

    def objective(net, images, labels):
        with _autocast(device, precision):
            logits = net(images)
            if config.tta and not net.training:
                logits = (logits + net(images.flip(-1))) / 2  # mirror is as likely as the image
        logp = F.log_softmax(logits.float(), dim=1)  # (B, 10), the loss in float32 whatever the autocast
        xent = -logp.gather(1, labels[:, None]).mean()
        loss = (1 - eps) * xent - eps * logp.mean()  # smoothing: target mass eps spread evenly
        if net.training:
            counter["images"] += len(labels)
        return loss, {"accuracy": accuracy(logits, labels), "xent": xent}

    return objective


def lr_multiplier(step: int, total: int, warmup: float) -> float:
    """Linear warm-up from WARMUP_START to 1 over the first `warmup` of the steps, then linear
    decay to FINAL_LR: large steps only once batch norm has settled, small ones at the end."""
    peak = max(1, round(warmup * total))
    if step < peak:
        return WARMUP_START + (1 - WARMUP_START) * step / peak
    return 1 - (1 - FINAL_LR) * min(1.0, (step - peak) / max(1, total - peak))


def make_optimizer(model, config: CifarConfig, batch_size: int) -> torch.optim.SGD:
    """Nesterov SGD; BN shifts at `bias_lr_scale` x lr. Weight decay is divided by each group's
    lr so every weight loses the same fraction per step (decoupled from the learning rate)."""
    lr = config.lr * batch_size / 1024
    shifts, weights = param_groups(model)
    groups = [{"params": shifts, "lr": lr * config.bias_lr_scale},
              {"params": weights, "lr": lr}]
    for group in groups:
        group["weight_decay"] = config.weight_decay / group["lr"]
    return torch.optim.SGD(groups, lr=lr, momentum=config.momentum, nesterov=True)
