"""`nnlab cifar`: a from-scratch CIFAR-10 network trained with the fast-trainer recipe (question 5.1).

The recipe (each ingredient is explained in the README): frozen patch whitening, label
smoothing, Nesterov SGD with warm-up and decay and a raised learning rate for batch-norm
shifts, lookahead averaging, flip test-time augmentation, device-side crop+flip,
float16/bfloat16 autocast with batch norm in float32, channels_last and optional
torch.compile. Data-parallel under torchrun. `--subset-per-class` hands over to
`cifar_study` (question 5.2).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from nnlab.core import distributed
from nnlab.core.augment import shift_flip
from nnlab.core.callbacks import Lookahead, TimeBudget
from nnlab.core.data import Batches, Dataset, Split, load_dataset
from nnlab.core.device import seed_everything
from nnlab.core.metrics import accuracy
from nnlab.core.models.cifar import CifarNet, param_groups
from nnlab.core.train import fit
from nnlab.errors import NnlabError
from nnlab.experiments import cifar_report
from nnlab.runs.recorder import Recorder

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
MAX_PER_CLASS = 5000  # CIFAR-10 has 5,000 training images of each class
WARMUP_START, FINAL_LR = 0.2, 0.07  # lr multipliers at step 0 and at the last step
EVAL_BATCH = 2000


def _ints(text: str | tuple, flag: str, allow_all: bool = False) -> tuple:
    """'64,256,256' -> (64, 256, 256); with `allow_all`, 'all' -> None."""
    if not isinstance(text, str):
        return tuple(text)
    values = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if allow_all and part.lower() == "all":
            values.append(None)
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise NnlabError(f"{flag}: '{part}' is not a whole number{' or all' if allow_all else ''}") from None
    return tuple(values)


@dataclass(frozen=True)
class CifarConfig:
    """Settings of one CIFAR-10 run; the defaults are the recipe's (GPU target: 94% in 10 epochs)."""

    epochs: int = 10
    batch_size: int = 1024  # global: split across ranks under torchrun
    lr: float = 1.5  # peak SGD lr for a batch of 1024 (mean loss); scaled linearly with batch size
    momentum: float = 0.85  # Nesterov
    weight_decay: float = 2e-3  # fraction of each weight removed per step at peak lr, whatever its lr
    bias_lr_scale: float = 64.0  # batch-norm shifts learn this many times faster
    warmup: float = 0.23  # fraction of the steps spent warming the lr up (from 0.2x to 1x)
    label_smoothing: float = 0.2
    translate: int = 2  # random shift in pixels, each way (border reflected)
    flip: bool = True  # random left-right flips while training
    tta: bool = True  # test on the mean of the image's and its mirror's logits
    lookahead: bool = True
    widths: tuple[int, ...] = (64, 256, 256)
    precision: str = "auto"  # auto: bf16 (or fp16) autocast on CUDA, fp32 elsewhere
    channels_last: bool = True  # on CUDA only; tensor cores want NHWC
    compile: bool = False  # torch.compile the model (minutes of compiling; pays off on GPU)
    subset_per_class: tuple[int | None, ...] = ()  # None: all; several values: the subset study
    max_minutes: float | None = None
    world_size: int = 1  # processes under torchrun; recorded so a run says how it was trained
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "widths", _ints(self.widths, "--widths"))
        object.__setattr__(self, "subset_per_class", _ints(self.subset_per_class, "--subset-per-class", True))
        for n in self.subset_per_class:
            if n is not None and not 1 <= n <= MAX_PER_CLASS:
                raise NnlabError(f"--subset-per-class {n}: each size must be 1 to {MAX_PER_CLASS} "
                                 "images per class, or 'all'")
        checks = [(self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
                  (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
                  (self.lr > 0, f"--lr must be positive, got {self.lr}"),
                  (0 <= self.momentum < 1, f"--momentum must be in [0, 1), got {self.momentum}"),
                  (self.weight_decay >= 0, f"--weight-decay must be 0 or more, got {self.weight_decay}"),
                  (self.bias_lr_scale > 0, f"--bias-lr-scale must be positive, got {self.bias_lr_scale}"),
                  (0 <= self.warmup < 1, f"--warmup must be a fraction in [0, 1), got {self.warmup}"),
                  (0 <= self.label_smoothing < 1, f"--label-smoothing must be in [0, 1), got {self.label_smoothing}"),
                  (0 <= self.translate <= 8, f"--translate must be 0 to 8 pixels, got {self.translate}"),
                  (bool(self.widths) and all(w >= 1 for w in self.widths),
                   f"--widths must be positive whole numbers such as 64,256,256, got {self.widths}"),
                  (self.precision in PRECISIONS, f"unknown --precision '{self.precision}'; choose one of {', '.join(PRECISIONS)}"),
                  (self.max_minutes is None or self.max_minutes > 0, f"--max-minutes must be positive, got {self.max_minutes}"),
                  (self.world_size >= 1, f"world size must be at least 1, got {self.world_size}")]
        for ok, message in checks:
            if not ok:
                raise NnlabError(message)
        if self.batch_size % self.world_size:
            raise NnlabError(f"--batch-size {self.batch_size} does not split evenly over {self.world_size} ranks")


# ---- data --------------------------------------------------------------------------------

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


# ---- training ------------------------------------------------------------------------------

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
    from nnlab.experiments.cifar_study import subset_plan

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
        cifar_report.report(recorder, history, test_predictions, data, result)
    return result


def run(config: CifarConfig, recorder: Recorder) -> dict:
    """Load CIFAR-10 and train once, or run the subset study when several sizes are given."""
    world = distributed.setup(config.device, config.world_size)
    try:
        data = load_dataset("cifar10", config.data_dir, device="cpu")  # each rank moves only its shard
        recorder.update_run(dataset=data.name, data_source=data.source, world_size=world.size)
        recorder.info(f"cifar10: {len(data.train):,} training and {len(data.test):,} test images on "
                      f"{world.device}" + (f", {world.size} ranks" if world.size > 1 else ""))
        if len(config.subset_per_class) > 1:
            from nnlab.experiments.cifar_study import study

            return study(config, data, world, recorder)
        per_class = config.subset_per_class[0] if config.subset_per_class else None
        return train(config, data, world, recorder, per_class)
    finally:
        distributed.teardown(world)
