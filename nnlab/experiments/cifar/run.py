"""`nnlab cifar`: check and load CIFAR-10 before the run exists, then train once or run the subset study.

Under torchrun every rank runs this; only rank 0 records a run (`records_run`), the others
train in step with it and report to a silent recorder.
"""

from __future__ import annotations

from dataclasses import replace

from nnlab.core import distributed
from nnlab.core.data import load_dataset
from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.cifar.config import CifarConfig
from nnlab.experiments.cifar.study import study
from nnlab.experiments.cifar.train import train
from nnlab.runs.recorder import Recorder


def records_run(config: CifarConfig) -> bool:
    """Whether this process writes the run: rank 0 only (every process when not under torchrun)."""
    return distributed.env_rank() == 0


def preflight(config: CifarConfig, store=None) -> Setup:
    """Device, seed, the world size torchrun gave, and CIFAR-10 (on the CPU: each rank moves only its
    shard) with subset sizes its classes can fill: all found before any run directory exists."""
    setup = base.preflight(replace(config, world_size=distributed.env_world_size()), store)
    setup.data = data = load_dataset("cifar10", config.data_dir, device="cpu")
    smallest = min(int((data.train.labels == c).sum()) for c in range(len(data.classes)))
    too_big = [n for n in config.subset_per_class if n is not None and n > smallest]
    if too_big:
        raise NnlabError(f"--subset-per-class {too_big[0]}: this training set has only {smallest} "
                         "images of its smallest class")
    return setup


def run(config: CifarConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train once, or run the subset study when several sizes are given."""
    setup = prepare(config, recorder, setup, preflight)
    config, data = setup.config, setup.data
    world = distributed.setup(setup.device, config.world_size)
    try:
        recorder.update_run(world_size=world.size)
        if world.size > 1:
            recorder.info(f"data parallel over {world.size} ranks; rank 0 on {world.device}")
        if len(config.subset_per_class) > 1:
            return study(config, data, world, recorder)
        per_class = config.subset_per_class[0] if config.subset_per_class else None
        return train(config, data, world, recorder, per_class)
    finally:
        distributed.teardown(world)
