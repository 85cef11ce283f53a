"""Settings of `nnlab ae corrupt-demo`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from nnlab.errors import NnlabError
from nnlab.experiments.base import MAX_BATCH, Seeded, Shown, option

DATASETS = ("parabola", "circle", "moons")
CORRUPTIONS = ("gaussian", "masking", "salt-pepper")
PROBABILITY = ("masking", "salt-pepper")  # σ is a probability for these
MAX_GAUSSIAN_SIGMA = 10.0  # ten times the curves' size: beyond it there is no curve left to see


@dataclass(frozen=True, kw_only=True)
class CorruptConfig(Seeded, Shown):
    """A corruption process C(x̃|x) on a 2-D dataset (P5.2), and a denoising autoencoder that undoes it.

    Prints the formula of C, plots the clean and the corrupted points side by side, then (unless
    --no-dae) trains a small denoising autoencoder 2 → hidden → hidden → 2 (ReLU, MSE to the clean
    point, Adam, fresh corruption every batch) and draws an arrow from each corrupted point to its
    reconstruction. Reports the mean distance to the clean curve before and after.
    """

    data: str = option("parabola", "parabola (y = x² on [-1, 1]), circle or moons.", choices=DATASETS)
    corruption: str = option("gaussian", "gaussian (x + N(0, σ²I)), masking (each coordinate zeroed with "
                             "probability σ) or salt-pepper (each coordinate set to its min or max with "
                             "probability σ).", choices=CORRUPTIONS)
    sigma: float = option(0.1, "Noise level: the standard deviation (gaussian) or the probability per "
                          "coordinate (masking, salt-pepper).", min=0, min_open=True, max=MAX_GAUSSIAN_SIGMA)
    points: int = option(5000, "Clean training points (the figures show 500 others).", min=10, max=1_000_000)
    dae: bool = option(True, "Train the denoising autoencoder and draw its corrections.")
    hidden: int = option(64, "Units in each of the DAE's two hidden layers.", min=1, max=4096)
    epochs: int = option(20, "Passes over the training points.", min=1, max=100_000)
    lr: float = option(3e-3, "Adam learning rate.", min=0, min_open=True, max=10)
    batch_size: int = option(64, "Mini-batch size.", min=1, max=MAX_BATCH)

    def check(self) -> None:
        if self.corruption in PROBABILITY and self.sigma > 1:
            raise NnlabError(f"--sigma is a probability for --corruption {self.corruption}: it must be at most 1, "
                             f"got {self.sigma:g}")
