"""Data-parallel runs under torchrun: process group set-up, rank shards, and agreeing.

torchrun starts one process per rank with RANK, WORLD_SIZE and LOCAL_RANK in the
environment. Without them (a plain `nnlab ...`) every function here is a no-op for rank 0
of a world of one, so single-process code needs no special case.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from nnlab.core.device import resolve_device
from nnlab.errors import NnlabError


def env_world_size() -> int:
    """WORLD_SIZE as torchrun sets it (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def env_rank() -> int:
    """RANK as torchrun sets it (0 outside torchrun)."""
    return int(os.environ.get("RANK", "0"))


@dataclass(frozen=True)
class World:
    """This process's place in the run and the device it trains on."""

    rank: int
    size: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes the run and talks to the user."""
        return self.rank == 0


def setup(device: torch.device | str, expected_size: int) -> World:
    """Join the process group (NCCL on CUDA, gloo on the CPU) and pick this rank's device.

    `device` is the resolved device, or a name still to resolve (auto, cpu, cuda, mps).
    """
    size = env_world_size()
    if size != expected_size:
        raise NnlabError(f"the config says world size {expected_size} but WORLD_SIZE is {size}; "
                         "launch with `torchrun --nproc_per_node=N -m nnlab ...`")
    device = device if isinstance(device, torch.device) else resolve_device(device)
    if size == 1:
        return World(0, 1, device)
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise NnlabError(f"data-parallel runs need --device cuda or cpu, not {device.type}")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), size, device)


def teardown(world: World) -> None:
    """Leave the process group (a no-op for a world of one)."""
    import torch.distributed as dist

    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def shard(n: int, world: World, generator: torch.Generator) -> torch.Tensor:
    """This rank's indices of a seeded permutation of range(n); every shard has n // size items,
    so all ranks take the same number of steps (a rank with one more batch would hang the rest)."""
    order = torch.randperm(n, generator=generator)
    per_rank = n // world.size
    if per_rank == 0:
        raise NnlabError(f"{n} training images cannot be shared among {world.size} ranks")
    return order[world.rank * per_rank:(world.rank + 1) * per_rank]


def gather(value: object, world: World) -> list:
    """`value` from every rank, in rank order."""
    if world.size == 1:
        return [value]
    import torch.distributed as dist

    values: list = [None] * world.size
    dist.all_gather_object(values, value)
    return values


def any_rank(flag: bool, world: World) -> bool:
    """True on every rank when `flag` is true on any rank."""
    if world.size == 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([int(flag)], device=world.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())  # a sync point, once per step: cheap next to the gradient all-reduce
