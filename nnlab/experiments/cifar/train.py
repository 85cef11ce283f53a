"""Training one CIFAR-10 network with the fast-trainer recipe (question 5.1), data-parallel under torchrun.

The recipe (its pieces in recipe.py, each explained in the README): frozen patch whitening,
label smoothing, Nesterov SGD with warm-up and decay and a raised learning rate for
batch-norm shifts, lookahead averaging, flip test-time augmentation, device-side crop+flip,
float16/bfloat16 autocast with batch norm in float32, channels_last and optional torch.compile.
"""

from __future__ import annotations

import copy
import time

import torch

from nnlab.core import distributed
from nnlab.core.augment import shift_flip
from nnlab.core.callbacks import Lookahead, TimeBudget
from nnlab.core.data import Batches, Dataset
from nnlab.core.device import seed_everything
from nnlab.core.models.cifar import CifarNet
from nnlab.core.train import fit
from nnlab.experiments.cifar import report
from nnlab.experiments.cifar.config import CifarConfig
from nnlab.experiments.cifar.recipe import (Pipeline, balanced_subset, lr_multiplier, make_objective, make_optimizer,
                                            predict, resolve_precision, subset_plan)
from nnlab.runs.recorder import Recorder

EVAL_BATCH = 2000


def _estimate_seconds(model, objective, pipeline: Pipeline, batch: int, steps: int, evals: float,
                      device: torch.device) -> tuple[float, float]:
    """(seconds for the run, seconds per training step), timing two steps of a throwaway copy."""
    probe = copy.deepcopy(model).train()
    images = pipeline(torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=device))
    labels = torch.randint(0, 10, (batch,), device=device)
    seconds = 0.0
    for _ in range(2):  # the first call pays one-off set-up costs
        start = time.perf_counter()
        objective(probe, images, labels)[0].backward()
        seconds = time.perf_counter() - start
    # a test image costs a forward pass: about a third of a training image's forward+backward
    return seconds * (steps + evals / batch / 3), seconds


def train(config: CifarConfig, data: Dataset, world: distributed.World, recorder: Recorder,
          per_class: int | None = None) -> dict:
    """Train one network on the (subset of the) training split; evaluate on the whole test set."""
    device = world.device
    generator = seed_everything(config.seed)  # same on every rank: same init, same shards
    plan = subset_plan(config, len(data.train), per_class, world.size)
    pick = balanced_subset(data.train.labels, per_class, len(data.classes), config.seed)
    cuda = device.type == "cuda"
    sample = data.train.images[pick[:10_000]]  # statistics and whitening: the same on every rank
    pipeline = Pipeline.fit(sample, device, config.channels_last and cuda)
    own = data.train.subset(pick[distributed.shard(len(pick), world, generator)]).to(device)  # resident shard
    test = data.test.to(device)
    rank_generator = torch.Generator().manual_seed(config.seed * 1000 + world.rank)  # own order and crops
    precision = resolve_precision(config.precision, device)

    model = CifarNet(config.widths).to(device)
    model.whiten.fit(pipeline(sample[:2000].to(device)))  # 1.9 M patches: plenty for a 12x12 covariance
    if config.channels_last and cuda:
        model = model.to(memory_format=torch.channels_last)
    per_rank = plan["batch_size"] // world.size
    # small subsets are tiled so one epoch takes as many steps as an epoch of the full set
    repeated = own if plan["repeats"] == 1 else own.subset(torch.arange(len(own), device=device).repeat(plan["repeats"]))
    train_batches = Batches(repeated, per_rank, generator=rank_generator,
                            transform=lambda x: pipeline(shift_flip(x, plan["translate"], config.flip, rank_generator)))
    test_batches = Batches(test, EVAL_BATCH, shuffle=False, transform=pipeline)
    total_steps = len(train_batches) * config.epochs

    optimizer = make_optimizer(model, config, plan["batch_size"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_multiplier(s, total_steps, config.warmup))
    counter = {"images": 0}
    objective = make_objective(config, device, precision, counter)
    callbacks = []
    if config.max_minutes:
        callbacks.append(TimeBudget(config.max_minutes * 60, lambda over: distributed.any_rank(over, world)))
    if config.lookahead:
        callbacks.append(Lookahead(model, total_steps))
    net = model
    if world.size > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    if config.compile:
        net = torch.compile(net)
    if device.type == "cpu" and world.main:
        throwaway = make_objective(config, device, precision, {"images": 0})
        estimate, step_s = _estimate_seconds(model, throwaway, pipeline, per_rank, total_steps,
                                             len(test) * config.epochs * (2 if config.tta else 1), device)
        when = f"{estimate / 60:.1f} min" if estimate >= 60 else f"{estimate:.0f} s"
        recorder.info(f"CPU estimate: about {when} ({total_steps} steps of {per_rank} images at "
                      f"{step_s:.2f} s each, plus testing); a GPU is ~100x faster"
                      + (f"; --max-minutes {config.max_minutes:g} will stop it early"
                         if config.max_minutes and estimate > config.max_minutes * 60 else ""))
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" and cuda else None

    started = time.perf_counter()  # time to accuracy: training, its evaluations, final predictions
    history = fit(net, optimizer, objective, train_batches, epochs=config.epochs, recorder=recorder,
                  test=test_batches, scheduler=scheduler, callbacks=callbacks, scaler=scaler, log_every=20)
    train_seconds = sum(r.seconds for r in history)
    test_predictions = predict(net, test_batches, config.tta, device, precision)
    train_eval = predict(net, Batches(own, EVAL_BATCH, shuffle=False, transform=pipeline), config.tta, device,
                         precision)
    if cuda:
        torch.cuda.synchronize(device)
    wall = time.perf_counter() - started
    steps = scheduler.last_epoch
    ranks = distributed.gather({"rank": world.rank, "images": len(own), "steps": steps,
                                "trained": counter["images"]}, world)
    test_acc = float((test_predictions == data.test.labels).float().mean())
    train_acc = float((train_eval == own.labels.cpu()).float().mean())
    result = {
        "test_accuracy": test_acc, "train_accuracy": train_acc, "gap": train_acc - test_acc,
        "train_images": len(pick), "per_class": per_class, "epochs_done": len(history), "steps": steps,
        "stopped_early": steps < total_steps, "wall_s": wall, "train_s": train_seconds,
        "images_per_s": sum(r["trained"] for r in ranks) / max(train_seconds, 1e-9),
        "precision": precision, "tta": config.tta, "world_size": world.size, "ranks": ranks, "plan": plan,
    }
    if world.main:
        torch.save(model.state_dict(), recorder.artifact("model.pt"))
        report.report(recorder, history, test_predictions, data, result)
    return result
