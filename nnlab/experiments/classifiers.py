"""`nnlab cnn` (MNIST CNN, problem 4.2) and `nnlab mlp` (Fashion-MNIST MLP, problem 2).

Both train through the shared fit loop. The CNN run ends with its first-layer filters, the
test confusion matrix, the most-confused pairs, per-class accuracy and the misclassified
images. The MLP run carves a seeded validation split from the training set, applies L2 to
weight matrices only, and ends with the assignment's "screenshot": the training loss over
the last 20 SGD iterations and the test accuracy.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nnlab.core.data import Batches, Dataset, Split, load_dataset
from nnlab.core.device import resolve_device, seed_everything
from nnlab.core.metrics import accuracy
from nnlab.core.models.classifiers import CNN, MLP, MLP_VARIANTS, l2_penalty
from nnlab.core.train import Callback, Objective, TrainState, evaluate, fit
from nnlab.errors import NnlabError
from nnlab.experiments.classifier_reports import report_confusion, report_filters, report_misclassified
from nnlab.runs.recorder import Recorder

DATASETS = ("mnist", "fashion-mnist", "digits")
LAST_STEPS = 20  # the assignment's screenshot: the loss over the last 20 SGD iterations
EVAL_BATCH = 2048


def _check_common(dataset: str, epochs: int, batch_size: int, lr: float) -> None:
    if dataset not in DATASETS:
        raise NnlabError(f"unknown --dataset '{dataset}'; choose one of {', '.join(DATASETS)}")
    if epochs < 1:
        raise NnlabError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise NnlabError(f"--batch-size must be at least 1, got {batch_size}")
    if not lr > 0:
        raise NnlabError(f"--lr must be positive, got {lr}")


@dataclass(frozen=True)
class CNNConfig:
    """Settings of `nnlab cnn`; 5 epochs as the assignment asks."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3  # Adam's step size
    dataset: str = "mnist"
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    fallback: bool = True  # use the embedded digits when MNIST cannot be had

    def __post_init__(self):
        _check_common(self.dataset, self.epochs, self.batch_size, self.lr)


@dataclass(frozen=True)
class MLPConfig:
    """Settings of `nnlab mlp`; the defaults are the tuned base network."""

    layers: int = 3
    units: int = 50
    lr: float = 0.01  # with momentum 0.9 an effective step of 0.1; 0.1 itself diverges (see `mlp tune`)
    batch_size: int = 32
    epochs: int = 20
    l2: float = 1e-4  # strength on weight matrices only: loss += l2/2 · Σ‖W‖²
    momentum: float = 0.9
    variant: str = "base"
    val_fraction: float = 0.1  # 6,000 of Fashion-MNIST's 60,000 training images
    dataset: str = "fashion-mnist"
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    fallback: bool = False

    def __post_init__(self):
        _check_common(self.dataset, self.epochs, self.batch_size, self.lr)
        if self.layers < 1:
            raise NnlabError(f"--layers must be at least 1, got {self.layers}")
        if self.units < 1:
            raise NnlabError(f"--units must be at least 1, got {self.units}")
        if self.l2 < 0:
            raise NnlabError(f"--l2 must be 0 or more, got {self.l2}")
        if not 0 <= self.momentum < 1:
            raise NnlabError(f"--momentum must be in [0, 1), got {self.momentum}")
        if self.variant not in MLP_VARIANTS:
            raise NnlabError(f"unknown --variant '{self.variant}'; choose one of {', '.join(MLP_VARIANTS)}")
        if not 0 < self.val_fraction < 1:
            raise NnlabError(f"--val-fraction must be strictly between 0 and 1, got {self.val_fraction}")


# ---- shared pieces -----------------------------------------------------------------------

def load(name: str, data_dir: str | None, device: torch.device, fallback: bool, recorder: Recorder) -> Dataset:
    """Load a dataset onto `device`, warning loudly when the digits fallback stood in."""
    data = load_dataset(name, data_dir, device=device, fallback=fallback)
    if data.fallback_reason:
        recorder.warn(f"MNIST cannot be had: {data.fallback_reason}\n"
                      "Using the embedded 'digits' dataset (scikit-learn's 8x8 digits at 28x28) instead.")
    recorder.update_run(dataset=data.name, data_source=data.source, fallback_reason=data.fallback_reason)
    return data


def standardiser(split: Split):
    """A per-batch transform uint8 -> float with the split's pixel mean 0 and std 1."""
    pixels = split.images.float().div(255.0)
    mean, std = pixels.mean().item(), pixels.std().item()

    def transform(images: torch.Tensor) -> torch.Tensor:
        return (images.float().div_(255.0) - mean) / std

    return transform


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


def classification_objective(l2: float = 0.0) -> Objective:
    """Cross-entropy (+ L2 on weight matrices); extras: accuracy and, with L2, the bare cross-entropy."""

    def objective(model: nn.Module, images: torch.Tensor, labels: torch.Tensor):
        logits = model(images)
        ce = F.cross_entropy(logits, labels)
        if l2 == 0:
            return ce, {"acc": accuracy(logits, labels)}
        return ce + l2_penalty(model, l2), {"acc": accuracy(logits, labels), "ce": ce.detach()}

    return objective


class LastLosses(Callback):
    """Keeps the training loss of the last `n` optimizer steps (tensors, so no per-step sync)."""

    def __init__(self, n: int = LAST_STEPS):
        self.losses: deque[tuple[int, torch.Tensor]] = deque(maxlen=n)

    def on_step_end(self, state: TrainState) -> None:
        self.losses.append((state.step, state.loss))

    def values(self) -> list[tuple[int, float]]:
        """(step, loss) pairs, oldest first."""
        return [(step, float(loss)) for step, loss in self.losses]


@torch.no_grad()
def predict(model: nn.Module, split: Split, transform) -> torch.Tensor:
    """Predicted labels for the whole split, in eval mode."""
    model.eval()
    return torch.cat([model(x).argmax(1) for x, _ in Batches(split, EVAL_BATCH, shuffle=False, transform=transform)])


# ---- nnlab cnn ---------------------------------------------------------------------------

def run_cnn(config: CNNConfig, recorder: Recorder) -> dict:
    """Train the CNN and analyse its test errors."""
    device = resolve_device(config.device)
    generator = seed_everything(config.seed)
    data = load(config.dataset, config.data_dir, device, config.fallback, recorder)
    recorder.info(f"{data.name}: {len(data.train):,} training and {len(data.test):,} test images on {device}")
    transform = standardiser(data.train)
    model = CNN(classes=len(data.classes)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    objective = classification_objective()
    train = Batches(data.train, config.batch_size, generator=generator, transform=transform)
    test = Batches(data.test, EVAL_BATCH, shuffle=False, transform=transform)
    history = fit(model, optimizer, objective, train, epochs=config.epochs, recorder=recorder, test=test)
    torch.save(model.state_dict(), recorder.artifact("model.pt"))

    report_filters(recorder, model.conv1.weight)
    predicted = predict(model, data.test, transform)
    test_acc = float((predicted == data.test.labels).float().mean())
    result = report_confusion(recorder, data.test.labels.cpu().numpy(), predicted.cpu().numpy(), data.classes)
    errors = report_misclassified(recorder, data.test, predicted, data.classes)
    recorder.info(f"test accuracy {100 * test_acc:.2f}% ({errors} of {len(data.test):,} misclassified)")
    summary = {"test_acc": test_acc, "test_loss": history[-1].test["loss"], "train_loss": history[-1].train["loss"],
               "misclassified": errors}
    recorder.summary(summary)
    return {"dataset": data.name, **summary, **result}


# ---- nnlab mlp ---------------------------------------------------------------------------

@dataclass
class MLPOutcome:
    """What one MLP training produced; `test_acc` is None when the test set was not touched."""

    model: nn.Module
    val_acc: float
    val_loss: float
    test_acc: float | None
    last_losses: list[tuple[int, float]]
    epochs: list[dict]


def train_mlp(config: MLPConfig, data: Dataset, recorder: Recorder, *, use_test: bool = True,
              callbacks: tuple[Callback, ...] = ()) -> MLPOutcome:
    """Train one MLP on the training split minus its validation part; test only when `use_test`."""
    device = data.train.images.device
    generator = seed_everything(config.seed)
    train_split, val_split = validation_split(data.train, config.val_fraction, config.seed)
    transform = standardiser(train_split)
    model = MLP(config.layers, config.units, config.variant, classes=len(data.classes)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    last = LastLosses()
    train = Batches(train_split, config.batch_size, generator=generator, transform=transform)
    val = Batches(val_split, EVAL_BATCH, shuffle=False, transform=transform)
    history = fit(model, optimizer, classification_objective(config.l2), train, epochs=config.epochs,
                  recorder=recorder, val=val, callbacks=(last, *callbacks), log_every=100)
    test_acc = None
    if use_test:  # once, after training: the test set never steers a choice
        test_acc = evaluate(model, classification_objective(), Batches(data.test, EVAL_BATCH, shuffle=False,
                                                                       transform=transform))["acc"]
    epochs = [{"epoch": r.epoch, **{f"train_{k}": v for k, v in r.train.items()},
               **{f"val_{k}": v for k, v in r.val.items()}} for r in history]
    return MLPOutcome(model, history[-1].val["acc"], history[-1].val["loss"], test_acc, last.values(), epochs)


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


def run_mlp(config: MLPConfig, recorder: Recorder) -> dict:
    """Train the MLP on the training split minus validation, then print the screenshot."""
    device = resolve_device(config.device)
    data = load(config.dataset, config.data_dir, device, config.fallback, recorder)
    n_val = int(round(len(data.train) * config.val_fraction))
    recorder.info(f"{data.name}: {len(data.train) - n_val:,} training, {n_val:,} validation (seed {config.seed}) "
                  f"and {len(data.test):,} test images on {device}")
    outcome = train_mlp(config, data, recorder)
    torch.save(outcome.model.state_dict(), recorder.artifact("model.pt"))
    report_screenshot(recorder, outcome)
    summary = {"val_acc": outcome.val_acc, "val_loss": outcome.val_loss, "test_acc": outcome.test_acc,
               "last_losses": [v for _, v in outcome.last_losses]}
    recorder.summary(summary)
    return {"dataset": data.name, "config": asdict(config), **summary}
