"""Settings of `nnlab cnn`, `nnlab mlp` and `nnlab mlp tune`, each declared once (no torch here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

from nnlab.errors import NnlabError
from nnlab.experiments.base import MAX_BATCH, MAX_EPOCHS, CommonConfig, dataset_option, option

# the MLP's variants (nnlab.core.models.classifiers.MLP_VARIANTS; a test keeps the two equal)
VARIANTS = ("base", "batchnorm", "dropout", "leakyrelu", "elu", "prelu")
SAMPLERS = ("grid", "random", "tpe")
MAX_LAYERS = 64
MAX_UNITS = 16_384  # 16k units on 784 inputs: 12.8M weights a layer, large but not terabytes
MAX_LR = 100.0
MAX_L2 = 100.0
MAX_TRIALS = 100_000
MAX_CHOICES = 64  # values a searched hyper-parameter may take
MAX_GRID = 1_000_000  # settings the grid sampler enumerates
FASHION_FIRST = "fashion-mnist, mnist or digits (embedded, offline)."


# ---- options `mlp` and `mlp tune` share ---------------------------------------------------

def _momentum() -> Any:
    return option(0.9, "SGD momentum (0 for plain SGD).", min=0, max=1, max_open=True)


def _variant() -> Any:
    return option("base", "base, batchnorm, dropout, leakyrelu, elu or prelu (the bonus).", choices=VARIANTS)


def _val_fraction() -> Any:
    # 0.1: 6,000 of Fashion-MNIST's 60,000 training images
    return option(0.1, "Share of the training set held out for validation (seeded).", min=0, max=1,
                  min_open=True, max_open=True)


def _no_fallback() -> Any:
    # the digits stand in for MNIST only, never for Fashion-MNIST
    return option(False, "Use the embedded digits when MNIST cannot be had.", cli=False)


@dataclass(frozen=True, kw_only=True)
class CNNConfig(CommonConfig):
    """Train a CNN (40 first-layer filters) on MNIST, then show its filters and test errors.

    Prints the 40 filters as an image, the confusion matrix with its largest off-diagonal
    cells highlighted, the most-confused pairs, per-class accuracy and misclassified images;
    saves filters.png, confusion.png/.csv, misclassified.png and model.pt in the run.
    """

    epochs: int = option(5, "Passes over the training set.", min=1, max=MAX_EPOCHS)  # the assignment's 5
    batch_size: int = option(64, "Mini-batch size.", min=1, max=MAX_BATCH)
    lr: float = option(1e-3, "Adam learning rate.", min=0, min_open=True, max=MAX_LR)
    dataset: str = dataset_option("mnist")


@dataclass(frozen=True, kw_only=True)
class MLPConfig(CommonConfig):
    """Train an MLP on Fashion-MNIST with SGD; print the last 20 iterations' loss and the test accuracy.

    A seeded validation split is carved from the training set; the test set is used once,
    at the end. Saves last_losses.csv and model.pt in the run. `nnlab mlp tune` searches
    the hyper-parameters.
    """

    layers: int = option(3, "Hidden layers.", min=1, max=MAX_LAYERS)
    units: int = option(50, "Units per hidden layer.", min=1, max=MAX_UNITS)
    # with momentum 0.9 an effective step of 0.1; 0.1 itself diverges (see `mlp tune`)
    lr: float = option(0.01, "SGD learning rate.", min=0, min_open=True, max=MAX_LR)
    batch_size: int = option(32, "Mini-batch size.", min=1, max=MAX_BATCH)
    epochs: int = option(20, "Passes over the training split.", min=1, max=MAX_EPOCHS)
    l2: float = option(1e-4, "L2 strength on weight matrices only (loss += l2/2·Σ‖W‖²).", min=0, max=MAX_L2)
    momentum: float = _momentum()
    variant: str = _variant()
    val_fraction: float = _val_fraction()
    dataset: str = dataset_option("fashion-mnist", FASHION_FIRST)
    fallback: bool = _no_fallback()


# ---- nnlab mlp tune ----------------------------------------------------------------------

# each searched hyper-parameter: (type, lowest, lowest allowed?, highest)
SPACE = {"layers": (int, 1, True, MAX_LAYERS), "units": (int, 1, True, MAX_UNITS),
         "lr": (float, 0.0, False, MAX_LR), "batch_size": (int, 1, True, MAX_BATCH),
         "epochs": (int, 1, True, MAX_EPOCHS), "l2": (float, 0.0, True, MAX_L2)}


def parse_choices(name: str, value: str | tuple) -> tuple:
    """'3,4,5' (or a tuple) -> the sorted distinct choices of `name`, each checked against its bounds."""
    kind, low, inclusive, high = SPACE[name]
    flag = "--" + name.replace("_", "-")
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
    if not items:
        raise NnlabError(f"empty search space: {flag} has no values (give a comma-separated list)")
    if len(items) > MAX_CHOICES:
        raise NnlabError(f"{flag} takes at most {MAX_CHOICES} values, got {len(items)}")
    try:
        choices = sorted({kind(v) for v in items})
    except (TypeError, ValueError, OverflowError):
        raise NnlabError(f"{flag} takes comma-separated {kind.__name__}s, got {value!r}") from None
    for v in choices:
        if kind is float and not math.isfinite(v):
            raise NnlabError(f"inconsistent search space: {flag} value {v} must be a finite number")
        if v < low if inclusive else v <= low:
            bound = f"at least {low}" if inclusive else f"greater than {low}"
            raise NnlabError(f"inconsistent search space: {flag} value {v} must be {bound}")
        if v > high:
            raise NnlabError(f"inconsistent search space: {flag} value {v} must be at most {high:g}")
    return tuple(choices)


DEFAULT_SPACE = {  # the assignment's suggestions
    "layers": (3, 4, 5), "units": (30, 40, 50),
    "lr": (0.001, 0.002, 0.005, 0.01, 0.02),  # with momentum 0.9, 0.05 and 0.1 diverge
    "batch_size": (16, 32, 64, 128, 256), "epochs": (10, 20), "l2": (0.0, 1e-5, 1e-4, 1e-3)}


def _choices(name: str, help: str, **spec: Any) -> Any:
    """A searched hyper-parameter: a comma-separated list of choices, parsed by parse_choices."""
    return option(DEFAULT_SPACE[name], help, parse=partial(parse_choices, name), **spec)


@dataclass(frozen=True, kw_only=True)
class TuneConfig(CommonConfig):
    """Search layers, units, learning rate, batch size, epochs and L2 with Optuna, on validation accuracy.

    Shows a live table of the trials sorted by validation accuracy, then re-trains the best
    setting and reports its test accuracy. Each trial is a child run of this sweep's run.
    Start the same command in several shells with one --storage to share the trials.
    """

    trials: int = option(12, "Trials the study should hold in total, over all workers.", min=1, max=MAX_TRIALS)
    sampler: str = option("tpe", "grid, random or tpe (Optuna's samplers).", choices=SAMPLERS)
    layers: tuple[int, ...] = _choices("layers", "Choices of hidden layers, comma-separated.")
    units: tuple[int, ...] = _choices("units", "Choices of units per layer.")
    lr: tuple[float, ...] = _choices("lr", "Choices of SGD learning rate (with momentum 0.9, "
                                     "0.05 and up diverge).")
    batch_size: tuple[int, ...] = _choices("batch_size", "Choices of mini-batch size.")
    epochs: tuple[int, ...] = _choices("epochs", "Choices of epochs.")
    l2: tuple[float, ...] = _choices("l2", "Choices of L2 strength on weight matrices.")
    storage: str | None = option(None, "Optuna storage URL shared by workers, e.g. sqlite:///tune.db or "
                                 "postgresql://host/db \\[default: in memory].", default_text="")
    study_name: str = option("mlp-tune", "Study name inside the storage; workers with the same name share trials.")
    retrain: bool = option(True, "Re-train the best setting and report its test accuracy.")
    momentum: float = _momentum()
    variant: str = _variant()
    val_fraction: float = _val_fraction()
    dataset: str = dataset_option("fashion-mnist", FASHION_FIRST)
    fallback: bool = _no_fallback()

    def check(self) -> None:
        """The grid must hold the trials asked for, and stay small enough to enumerate."""
        if self.sampler == "grid" and self.grid_size() > MAX_GRID:
            raise NnlabError(f"the grid holds {self.grid_size():,} settings, more than the grid sampler takes "
                             f"({MAX_GRID:,}); narrow the space or use --sampler tpe")
        if self.sampler == "grid" and self.grid_size() < self.trials:
            raise NnlabError(f"inconsistent search space: the grid holds {self.grid_size()} settings but --trials "
                             f"asks for {self.trials}; widen the space or lower --trials")
        if not self.study_name.strip():
            raise NnlabError("--study-name must not be empty")

    def space(self) -> dict[str, tuple]:
        """The searched hyper-parameters and their choices."""
        return {name: getattr(self, name) for name in SPACE}

    def grid_size(self) -> int:
        """How many settings the full grid holds."""
        return math.prod(len(v) for v in self.space().values())

    def mlp(self, params: dict) -> MLPConfig:
        """The MLP config of one setting."""
        shared = {f.name: getattr(self, f.name) for f in fields(MLPConfig) if f.name not in SPACE and hasattr(self, f.name)}
        return MLPConfig(**shared, **params)
