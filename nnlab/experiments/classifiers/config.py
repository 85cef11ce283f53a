"""Settings of `nnlab cnn`, `nnlab mlp` and `nnlab mlp tune`, each declared once (no torch here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

from nnlab.errors import NnlabError
from nnlab.experiments.base import MAX_BATCH, MAX_EPOCHS, CommonConfig, dataset_option, option
from nnlab.tools.init_schemes import SCHEMES

# the MLP's variants (nnlab.core.models.classifiers.MLP_VARIANTS; a test keeps the two equal)
VARIANTS = ("base", "batchnorm", "dropout", "leakyrelu", "elu", "prelu")
SAMPLERS = ("grid", "random", "tpe")
SCHEDULES = ("constant", "onecycle")
MAX_SHIFT = 8  # pixels of a 28x28 image
MAX_LAYERS = 64
MAX_UNITS = 16_384  # 16k units on 784 inputs: 12.8M weights a layer, large but not terabytes
MAX_LR = 100.0
MAX_L2 = 100.0
MAX_TRIALS = 100_000
MAX_CHOICES = 64  # values a searched hyper-parameter may take
MAX_GRID = 1_000_000  # settings the grid sampler enumerates
FASHION_FIRST = "fashion-mnist, mnist or digits (embedded, offline)."


# ---- options `mlp` and `mlp tune` share ---------------------------------------------------

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

    Assumed, because the seed's skeleton prob4_CNN.py is not in the seeds: the seed fixes
    only MNIST, 5 epochs and 40 filters in the first convolution. The rest is nnlab's
    choice, small enough that 5 epochs take minutes on a laptop CPU and still pass 99%:
    conv 1→40 5x5 (filters big enough to see), ReLU, max-pool 2; conv 40→32 3x3, ReLU,
    max-pool 2; FC 800→128, ReLU, dropout 0.25, FC 128→10; inputs standardised; Adam at
    1e-3, batch 64, cross-entropy.
    """

    epochs: int = option(5, "Passes over the training set (the seed's 5).", min=1, max=MAX_EPOCHS)
    batch_size: int = option(64, "Mini-batch size (assumed: the skeleton is not in the seeds).", min=1,
                             max=MAX_BATCH)
    lr: float = option(1e-3, "Adam learning rate (assumed, as the optimizer: the skeleton is not in the seeds).",
                       min=0, min_open=True, max=MAX_LR)
    dataset: str = dataset_option("mnist")


# ---- nnlab mlp and its presets ------------------------------------------------------------

@dataclass(frozen=True)
class MLPPreset:
    """A whole recipe for `nnlab mlp`: every value a flag left unset takes."""

    layers: int
    units: int
    variant: str
    dropout: float | None  # None: 0.1 with the dropout variant, else none
    lr: float  # the peak learning rate under the one-cycle schedule
    batch_size: int
    epochs: int
    l2: float
    momentum: float
    nesterov: bool
    schedule: str
    label_smoothing: float
    shift: int  # pixels
    flip: bool
    tta: bool
    lookahead: bool


MLP_PRESETS = {
    # problem 2's network: 3 hidden ReLU layers of 50, SGD with momentum 0.9 at 0.01 (an
    # effective step of 0.1), batch 32, 20 epochs; it reaches about 88% test accuracy
    "seed": MLPPreset(layers=3, units=50, variant="base", dropout=None, lr=0.01, batch_size=32, epochs=20,
                      l2=1e-4, momentum=0.9, nesterov=False, schedule="constant", label_smoothing=0.0,
                      shift=0, flip=False, tta=False, lookahead=False),
    # the bonus, still fully connected: two wide batch-normed layers, batch augmentation
    # (shifts of one pixel, mirror images: both are Fashion-MNIST images too), label
    # smoothing, Nesterov SGD on a one-cycle schedule, lookahead averaging of the last steps
    # and mirror test-time augmentation; picked on validation accuracy (seed 0) among widths
    # 512/1024, 2-3 layers, dropout 0-0.2, L2 1e-4/5e-4, 20-30 epochs. Measured 90.97 ± 0.07%
    # test accuracy over seeds 0-2, 3.3-3.7 min each on 2 quiet cores (see the README)
    "best": MLPPreset(layers=2, units=1024, variant="batchnorm", dropout=0.0, lr=0.2, batch_size=256, epochs=30,
                      l2=1e-4, momentum=0.9, nesterov=True, schedule="onecycle", label_smoothing=0.1,
                      shift=1, flip=True, tta=True, lookahead=True),
}


def preset_text(name: str) -> str:
    """One preset's values as --help lists them: "layers 2, units 1024, ..."."""
    values = {f.name: getattr(MLP_PRESETS[name], f.name) for f in fields(MLPPreset)}
    return ", ".join(f"{k.replace('_', '-')} {v}" for k, v in values.items() if v is not None)


def _preset(name: str, help: str, **spec: Any) -> Any:
    """A field the preset fills when its flag is not given; --help shows both presets' values."""
    seed, best = (getattr(MLP_PRESETS[p], name) for p in ("seed", "best"))
    return option(None, help, default_text=f"{seed}; best: {best}", **spec)


@dataclass(frozen=True, kw_only=True)
class MLPConfig(CommonConfig):
    """Train an MLP on Fashion-MNIST with SGD; print the last 20 iterations' loss and the test accuracy.

    A seeded validation split is carved from the training set; the test set is used once,
    at the end. Saves last_losses.csv and model.pt in the run. `nnlab mlp tune` searches
    the hyper-parameters; `--preset best` is the bonus network (see --preset).
    """

    preset: str = option("seed", "seed: problem 2's network; best: nnlab's best fully connected network, "
                         f"91.0% Fashion-MNIST test accuracy ({preset_text('best')}). Flags given override the preset's values.",
                         choices=tuple(MLP_PRESETS))
    layers: int | None = _preset("layers", "Hidden layers.", min=1, max=MAX_LAYERS)
    units: int | None = _preset("units", "Units per hidden layer.", min=1, max=MAX_UNITS)
    variant: str | None = _preset("variant", "base, batchnorm, dropout, leakyrelu, elu or prelu (the bonus).",
                                  choices=VARIANTS)
    dropout: float | None = option(None, "Dropout after each hidden activation.", min=0, max=1, max_open=True,
                                   default_text="0.1 with --variant dropout, else 0; best: "
                                   f"{MLP_PRESETS['best'].dropout}")
    # seed: with momentum 0.9 an effective step of 0.1; 0.1 itself diverges (see `mlp tune`)
    lr: float | None = _preset("lr", "SGD learning rate (the peak with --schedule onecycle).", min=0,
                               min_open=True, max=MAX_LR)
    batch_size: int | None = _preset("batch_size", "Mini-batch size.", min=1, max=MAX_BATCH)
    epochs: int | None = _preset("epochs", "Passes over the training split.", min=1, max=MAX_EPOCHS)
    l2: float | None = _preset("l2", "L2 strength on weight matrices only (loss += l2/2·Σ‖W‖²).", min=0,
                               max=MAX_L2)
    momentum: float | None = _preset("momentum", "SGD momentum (0 for plain SGD).", min=0, max=1, max_open=True)
    nesterov: bool | None = _preset("nesterov", "Nesterov momentum.")
    schedule: str | None = _preset("schedule", "constant, or onecycle (warm up from lr/25 to --lr over the first "
                                   "25% of steps, then cosine down to about 0).", choices=SCHEDULES)
    label_smoothing: float | None = _preset("label_smoothing", "Training targets (1−ε)·one-hot + ε/10.", min=0,
                                            max=1, max_open=True)
    shift: int | None = _preset("shift", "Augment: move each training image by up to this many pixels each way "
                                "(border reflected).", min=0, max=MAX_SHIFT)
    flip: bool | None = _preset("flip", "Augment: mirror half of the training images left-right.")
    tta: bool | None = _preset("tta", "Test-time augmentation: average the logits of each image and its mirror.")
    lookahead: bool | None = _preset("lookahead", "Average the weights with a slow copy, more and more toward the "
                                     "end (nnlab.core.callbacks.Lookahead).")
    init: str = option("default", "Weight initialisation of every Linear layer, as `nnlab init` measures it: "
                       "default (PyTorch's U(±1/√fan_in)), he (N(0, 2/fan_in)), xavier (N(0, 2/(fan_in+fan_out))), "
                       "lecun (N(0, 1/fan_in)); biases start at 0 except with default.",
                       choices=tuple(s for s in SCHEMES if s != "std"))
    val_fraction: float = _val_fraction()
    dataset: str = dataset_option("fashion-mnist", FASHION_FIRST)
    fallback: bool = _no_fallback()

    def __post_init__(self) -> None:
        if self.preset in MLP_PRESETS:  # else validation names the bad --preset
            chosen = MLP_PRESETS[self.preset]
            for f in fields(MLPPreset):
                if getattr(self, f.name) is None:
                    object.__setattr__(self, f.name, getattr(chosen, f.name))
        super().__post_init__()

    def check(self) -> None:
        """Nesterov momentum needs momentum."""
        if self.nesterov and self.momentum == 0:
            raise NnlabError("--nesterov needs --momentum above 0")


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


DEFAULT_SPACE = {  # the assignment's suggestions, searched with plain SGD as it asks
    "layers": (3, 4, 5), "units": (30, 40, 50),
    "lr": (0.001, 0.005, 0.01, 0.05, 0.1, 0.5),  # 0.5 may diverge: such a trial is recorded as diverged
    "batch_size": (16, 32, 64, 128, 256),
    # the seed names epochs and L2 without values: a short and a longer run, no L2 to strong L2
    "epochs": (10, 20), "l2": (0.0, 1e-5, 1e-4, 1e-3)}


def _choices(name: str, help: str, **spec: Any) -> Any:
    """A searched hyper-parameter: a comma-separated list of choices, parsed by parse_choices."""
    return option(DEFAULT_SPACE[name], help, parse=partial(parse_choices, name), **spec)


@dataclass(frozen=True, kw_only=True)
class TuneConfig(CommonConfig):
    """Search layers, units, learning rate, batch size, epochs and L2 with Optuna, on validation accuracy.

    The default space is problem 2's grid, trained with plain SGD (--momentum 0) as it asks;
    a trial whose loss becomes NaN or infinite stops, is pruned and shown as diverged, and
    the sweep goes on. Shows a live table of the trials sorted by validation accuracy, then re-trains the best
    setting and reports its test accuracy. Each trial is a child run of this sweep's run.
    Start the same command in several shells with one --storage to share the trials.
    """

    trials: int = option(12, "Trials the study should hold in total, over all workers.", min=1, max=MAX_TRIALS)
    sampler: str = option("tpe", "grid, random or tpe (Optuna's samplers).", choices=SAMPLERS)
    layers: tuple[int, ...] = _choices("layers", "Choices of hidden layers, comma-separated.")
    units: tuple[int, ...] = _choices("units", "Choices of units per layer.")
    lr: tuple[float, ...] = _choices("lr", "Choices of SGD learning rate (a setting that diverges is "
                                     "pruned and shown as diverged).")
    batch_size: tuple[int, ...] = _choices("batch_size", "Choices of mini-batch size.")
    epochs: tuple[int, ...] = _choices("epochs", "Choices of epochs (the seed gives none: 10 and 20).")
    l2: tuple[float, ...] = _choices("l2", "Choices of L2 strength on weight matrices (the seed gives none).")
    storage: str | None = option(None, "Optuna storage URL shared by workers, e.g. sqlite:///tune.db or "
                                 "postgresql://host/db \\[default: in memory].", default_text="")
    study_name: str = option("mlp-tune", "Study name inside the storage; workers with the same name share trials.")
    retrain: bool = option(True, "Re-train the best setting and report its test accuracy.")
    momentum: float = option(0.0, "SGD momentum of every trial (0: plain SGD, as problem 2 asks).", min=0, max=1,
                             max_open=True)
    variant: str = option("base", "base, batchnorm, dropout, leakyrelu, elu or prelu (the bonus).", choices=VARIANTS)
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
