"""Settings of `nnlab cifar`, each declared once (no torch here); the defaults are the recipe's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnlab.errors import NnlabError
from nnlab.experiments.base import MAX_BATCH, MAX_EPOCHS, OnDevice, Seeded, Shown, data_dir_option, option

RECIPE = "Recipe"
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
MAX_PER_CLASS = 5000  # CIFAR-10 has 5,000 training images of each class
MAX_WIDTH = 4096  # channels of one conv block
MAX_BLOCKS = 8
MAX_SIZES = 16  # subset sizes in one study
MAX_WORLD = 4096


def parse_ints(flag: str, value: str | tuple, allow_all: bool = False) -> tuple:
    """'64,256,256' (or a tuple) -> (64, 256, 256); with `allow_all`, 'all' -> None."""
    if not isinstance(value, str):
        return tuple(value)
    values = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        if allow_all and part.lower() == "all":
            values.append(None)
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise NnlabError(f"{flag}: '{part}' is not a whole number{' or all' if allow_all else ''}") from None
    return tuple(values)


def parse_widths(value: str | tuple) -> tuple[int, ...]:
    """--widths: one to MAX_BLOCKS channel counts, each 1 to MAX_WIDTH."""
    widths = parse_ints("--widths", value)
    if not widths or len(widths) > MAX_BLOCKS or not all(isinstance(w, int) and 1 <= w <= MAX_WIDTH for w in widths):
        raise NnlabError(f"--widths must be 1 to {MAX_BLOCKS} whole numbers from 1 to {MAX_WIDTH} such as "
                         f"64,256,256, got {value if isinstance(value, str) else ','.join(map(str, value))}")
    return widths


def parse_subsets(value: str | tuple) -> tuple[int | None, ...]:
    """--subset-per-class: sizes of 1 to MAX_PER_CLASS images per class, or 'all' (None)."""
    sizes = parse_ints("--subset-per-class", value, allow_all=True)
    if len(sizes) > MAX_SIZES:
        raise NnlabError(f"--subset-per-class takes at most {MAX_SIZES} sizes, got {len(sizes)}")
    for n in sizes:
        if n is not None and not (isinstance(n, int) and 1 <= n <= MAX_PER_CLASS):
            raise NnlabError(f"--subset-per-class {n}: each size must be 1 to {MAX_PER_CLASS} "
                             "images per class, or 'all'")
    return sizes


def _recipe(default: Any, help: str, **spec: Any) -> Any:
    """An option of the training recipe, shown in its own --help panel."""
    return option(default, help, panel=RECIPE, **spec)


@dataclass(frozen=True, kw_only=True)
class CifarConfig(Shown, OnDevice, Seeded):
    """Train a from-scratch CIFAR-10 network with the fast-trainer recipe (target: 94% on a GPU).

    Prints a time estimate (CPU), per-epoch train/test loss and accuracy, their curves,
    the test confusion matrix, per-class accuracy, wall time and images/s.
    Saves loss.png, accuracy.png, confusion.png/.csv, per_class.csv and model.pt in the run.
    Data parallel: `torchrun --nproc_per_node=N -m nnlab cifar ...` (rank 0 writes the run).
    """

    epochs: int = option(10, "Passes over the training set.", min=1, max=MAX_EPOCHS)
    batch_size: int = option(1024, "Global mini-batch size (split over torchrun ranks).", min=1, max=MAX_BATCH)
    # scaled linearly with the batch size (the loss is a mean)
    lr: float = _recipe(1.5, "Peak Nesterov SGD learning rate per 1024 images.", min=0, min_open=True, max=1000)
    momentum: float = _recipe(0.85, "Nesterov momentum.", min=0, max=1, max_open=True)
    # decoupled from the lr: every weight loses this fraction per step, whatever its group's lr
    weight_decay: float = _recipe(2e-3, "Fraction of each weight removed per step at peak lr.", min=0, max=1)
    bias_lr_scale: float = _recipe(64.0, "Batch-norm shifts learn this many times faster.", min=0, min_open=True,
                                   max=10_000)
    warmup: float = _recipe(0.23, "Fraction of steps warming the lr up; then it decays linearly.", min=0, max=1,
                            max_open=True)
    label_smoothing: float = _recipe(0.2, "Target mass spread over all classes.", min=0, max=1, max_open=True)
    translate: int = _recipe(2, "Random shift in pixels (crop with reflected border).", min=0, max=8)
    flip: bool = _recipe(True, "Random left-right flips while training.")
    tta: bool = _recipe(True, "Test on the mean of image and mirror logits.")
    lookahead: bool = _recipe(True, "Lookahead weight averaging.")
    widths: tuple[int, ...] = _recipe((64, 256, 256), "Channels of the conv blocks (the recipe has three).", parse=parse_widths)
    precision: str = option("auto", "auto (bf16/fp16 autocast on CUDA, fp32 elsewhere), fp32, fp16, bf16.",
                            choices=PRECISIONS)
    channels_last: bool = option(True, "NHWC memory layout on CUDA.")  # tensor cores want NHWC
    compile: bool = option(False, "torch.compile the model (slow to start, faster on GPU).")
    subset_per_class: tuple[int | None, ...] = option(
        (), "Train on N images per class; several (1,10,100,1000,all) run the subset study.", parse=parse_subsets,
        default_text="")
    max_minutes: float | None = option(None, "Stop training cleanly after this many minutes.", min=0,
                                       min_open=True, max=1e6)
    # processes under torchrun, from its WORLD_SIZE; recorded so a run says how it was trained
    world_size: int = option(1, "Processes training together.", min=1, max=MAX_WORLD, cli=False)
    data_dir: str | None = data_dir_option()

    def check(self) -> None:
        """The global batch must split evenly over the ranks."""
        if self.batch_size % self.world_size:
            raise NnlabError(f"--batch-size {self.batch_size} does not split evenly over {self.world_size} ranks")
