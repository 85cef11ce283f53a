"""Choosing the device and seeding every random generator a run uses.

The device names live here (DEVICE_CHOICES), and configs declare their --device with them, so this
module loads torch and numpy only inside its functions: `nnlab --help` must not wait for them.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from nnlab.errors import NnlabError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def check_device_name(name: str) -> None:
    """Refuse a --device that is neither one of DEVICE_CHOICES nor `cuda:N` (without asking torch)."""
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise NnlabError(f"unknown --device '{name}'; choose one of {', '.join(DEVICE_CHOICES)}")


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then MPS, then the CPU; an explicit choice must be available."""
    import torch

    check_device_name(name)
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_ok else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NnlabError("--device cuda asked for, but no CUDA GPU is visible; use --device cpu or auto")
    if name == "mps" and not mps_ok:
        raise NnlabError("--device mps asked for, but MPS is not available; use --device cpu or auto")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """A human name for the device, recorded with each run."""
    import torch

    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a CPU generator for data order."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside: on tiny tensors (2-D points, receptive-field probes) syncing
    threads costs more than the work (20 s against 244 s with two on a busy 2-core machine)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
