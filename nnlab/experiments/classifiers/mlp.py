"""`nnlab mlp`: the Fashion-MNIST MLP of problem 2, trained with SGD through the shared fit loop.

The run carves a seeded validation split from the training set, applies L2 to weight
matrices only, and ends with the assignment's "screenshot": the training loss over the last
20 SGD iterations and the test accuracy. `train_mlp` is also each trial of `mlp tune`; a
training whose loss turns NaN or infinite stops and says so (`MLPOutcome.diverged`).
`--preset best` adds what the bonus network needs, all inside the same fit loop: batch
augmentation on the resident uint8 images, label smoothing, Nesterov momentum, a one-cycle
schedule, lookahead averaging and mirror test-time augmentation.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

import torch
from torch import nn

from nnlab.core.augment import shift_flip
from nnlab.core.callbacks import Lookahead
from nnlab.core.classification import classification_objective, standardiser
from nnlab.core.data import Batches, Dataset, Split, Transform
from nnlab.core.device import seed_everything
from nnlab.core.models.classifiers import MLP
from nnlab.core.train import Callback, EpochResult, TrainState, evaluate, fit
from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.classifiers.config import MLPConfig
from nnlab.runs.recorder import Recorder
from nnlab.tools.init_schemes import init_linear_

LAST_STEPS = 20  # the assignment's screenshot: the loss over the last 20 SGD iterations
EVAL_BATCH = 2048
CHECK_EVERY = 10  # steps between divergence checks (each is a CPU-GPU sync)
WARMUP_SHARE = 0.25  # of the steps, rising to the peak --lr under the one-cycle schedule


def validation_split(split: Split, fraction: float, seed: int) -> tuple[Split, Split]:
    """(train, val): a seeded random `fraction` of `split` held out, disjoint from the rest."""
    n = len(split)
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise NnlabError(f"--val-fraction {fraction} leaves {n_val} of {n} training images for validation; "
                         "both parts need at least one")
    # its own generator: the split must not shift when the model's initialisation changes
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(split.labels.device)
    return split.subset(order[n_val:]), split.subset(order[:n_val])


class LastLosses(Callback):
    """Keeps the training loss of the last `n` optimizer steps (tensors, so no per-step sync)."""

    def __init__(self, n: int = LAST_STEPS):
        self.losses: deque[tuple[int, torch.Tensor]] = deque(maxlen=n)

    def on_step_end(self, state: TrainState) -> None:
        self.losses.append((state.step, state.loss))

    def values(self) -> list[tuple[int, float]]:
        """(step, loss) pairs, oldest first."""
        return [(step, float(loss)) for step, loss in self.losses]


class DivergenceGuard(Callback):
    """Stops training once the training loss is NaN or infinite; `reason` then says when."""

    def __init__(self, every: int = CHECK_EVERY):
        self.every = every
        self.reason: str | None = None

    def _stop(self, state: TrainState, loss: float) -> None:
        self.reason = f"the training loss became {loss} at step {state.step} (epoch {state.epoch})"
        state.stop = f"diverged: {self.reason}"

    def on_step_end(self, state: TrainState) -> None:
        # float() is a CPU-GPU sync point: only every `every` steps
        if state.step % self.every == 0 and not torch.isfinite(state.loss):
            self._stop(state, float(state.loss))

    def on_epoch_end(self, state: TrainState, result: EpochResult) -> None:
        if self.reason is None and not math.isfinite(result.train["loss"]):  # between two checks
            self._stop(state, result.train["loss"])


def augmented(transform: Transform, shift: int, flip: bool, generator: torch.Generator) -> Transform:
    """`transform` after a random shift of up to `shift` pixels and a mirror of half the images,
    done on the whole uint8 batch at once (nnlab.core.augment.shift_flip)."""
    if not shift and not flip:
        return transform
    return lambda images: transform(shift_flip(images, shift, flip, generator))


def one_cycle(optimizer: torch.optim.Optimizer, peak: float, total_steps: int):
    """Warm up from peak/25 to `peak` over the first quarter of the steps, then cosine down to
    about 0; momentum stays as given (the schedule does not cycle it)."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak, total_steps=max(1, total_steps),
                                               pct_start=WARMUP_SHARE, anneal_strategy="cos", cycle_momentum=False)


@dataclass
class MLPOutcome:
    """What one MLP training produced; `test_acc` is None when the test set was not touched."""

    model: nn.Module
    val_acc: float
    val_loss: float
    test_acc: float | None
    last_losses: list[tuple[int, float]]
    epochs: list[dict]
    seconds: float  # training time, evaluation excluded
    diverged: str | None = None  # why training stopped early, when its loss became NaN or infinite


def initialise(model: nn.Module, scheme: str) -> None:
    """Re-draw every Linear layer of `model` by `scheme` (nnlab.tools.init_schemes); default keeps nn.Linear's draw."""
    if scheme == "default":  # nn.Linear already drew U(±1/√fan_in): drawing again would shift the seeded stream
        return
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            init_linear_(layer, scheme)


def train_mlp(config: MLPConfig, data: Dataset, recorder: Recorder, *, use_test: bool = True,
              callbacks: tuple[Callback, ...] = ()) -> MLPOutcome:
    """Train one MLP on the training split minus its validation part; test only when `use_test`.

    A loss that turns NaN or infinite ends training early; the outcome's `diverged` says when.
    """
    device = data.train.images.device
    generator = seed_everything(config.seed)
    train_split, val_split = validation_split(data.train, config.val_fraction, config.seed)
    transform = standardiser(train_split)
    model = MLP(config.layers, config.units, config.variant, classes=len(data.classes),
                dropout=config.dropout).to(device)
    initialise(model, config.init)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov)
    train = Batches(train_split, config.batch_size, generator=generator,
                    transform=augmented(transform, config.shift, config.flip, generator))
    val = Batches(val_split, EVAL_BATCH, shuffle=False, transform=transform)
    total_steps = config.epochs * len(train)
    scheduler = one_cycle(optimizer, config.lr, total_steps) if config.schedule == "onecycle" else None
    last, guard = LastLosses(), DivergenceGuard()
    averaging = (Lookahead(model, total_steps),) if config.lookahead else ()
    objective = classification_objective(config.l2, config.label_smoothing, flip_tta=config.tta)
    history = fit(model, optimizer, objective, train, epochs=config.epochs, recorder=recorder, val=val,
                  scheduler=scheduler, callbacks=(last, guard, *averaging, *callbacks), log_every=100)
    test_acc = None
    if use_test and guard.reason is None:  # once, after training: the test set never steers a choice
        test = Batches(data.test, EVAL_BATCH, shuffle=False, transform=transform)
        test_acc = evaluate(model, classification_objective(flip_tta=config.tta), test)["acc"]
    epochs = [{"epoch": r.epoch, **{f"train_{k}": v for k, v in r.train.items()},
               **{f"val_{k}": v for k, v in r.val.items()}} for r in history]
    return MLPOutcome(model, history[-1].val["acc"], history[-1].val["loss"], test_acc, last.values(), epochs,
                      seconds=sum(r.seconds for r in history), diverged=guard.reason)


def report_screenshot(recorder: Recorder, outcome: MLPOutcome) -> None:
    """The assignment's screenshot: the last 20 iterations' training loss, then the test accuracy."""
    steps = [s for s, _ in outcome.last_losses]
    losses = [v for _, v in outcome.last_losses]
    recorder.table(f"last {len(losses)} SGD iterations", ["iteration", "train loss"],
                   [[s, f"{v:.4f}"] for s, v in outcome.last_losses], caption="loss = CE + L2 term")
    recorder.plot({"loss": (steps, losses)}, title=f"training loss, last {len(losses)} iterations",
                  xlabel="iteration", ylabel="loss")
    recorder.save_csv("last_losses.csv", ["iteration", "loss"], outcome.last_losses)
    recorder.info(f"validation accuracy {100 * outcome.val_acc:.2f}%")
    if outcome.test_acc is not None:
        recorder.info(f"[bold]test accuracy {100 * outcome.test_acc:.2f}%[/]")


def describe_split(config: MLPConfig, data: Dataset, recorder: Recorder) -> None:
    """One line on how the training set is divided (the test set is kept whole)."""
    n_val = int(round(len(data.train) * config.val_fraction))
    recorder.info(f"{len(data.train) - n_val:,} training and {n_val:,} validation images (seed {config.seed}); "
                  f"{len(data.test):,} test images, kept out of every choice")


def preflight(config: MLPConfig, store=None) -> Setup:
    """The shared preflight, and a validation split both of whose parts hold images."""
    setup = base.preflight(config, store)
    validation_split(setup.data.train, config.val_fraction, config.seed)
    return setup


def run(config: MLPConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train the MLP on the training split minus validation, then print the screenshot."""
    data = prepare(config, recorder, setup, preflight).data
    describe_split(config, data, recorder)
    outcome = train_mlp(config, data, recorder)
    if outcome.diverged:
        raise NnlabError(f"training diverged: {outcome.diverged}; lower --lr (now {config.lr:g})")
    torch.save(outcome.model.state_dict(), recorder.artifact("model.pt"))
    report_screenshot(recorder, outcome)
    summary = {"val_acc": outcome.val_acc, "val_loss": outcome.val_loss, "test_acc": outcome.test_acc,
               "last_losses": [v for _, v in outcome.last_losses], "train_seconds": outcome.seconds,
               "seconds_per_epoch": outcome.seconds / len(outcome.epochs)}
    recorder.summary(summary)
    return {"dataset": data.name, "config": asdict(config), **summary}
