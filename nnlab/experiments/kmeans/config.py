"""Settings of `nnlab kmeans` and `nnlab kmeans eta`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from nnlab.experiments.base import MAX_BATCH, MAX_EPOCHS, CommonConfig, Config, option

INITS = ("exemplar", "random", "samples", "kmeans++")
REDUCTIONS = ("pixel", "image")
ETA_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 60000)  # up to all of MNIST
MAX_K = 256  # the class-by-centre table and the centre image stay readable; 5,000 hung in plotting


@dataclass(frozen=True, kw_only=True)
class KMeansConfig(CommonConfig):
    """Cluster MNIST into k groups with a network trained by SGD, and compare with Lloyd's k-means.

    Prints each centre's measured step size α beside the seed's η/5, the centres as an image, the
    class-by-centre table, dead or collapsed centres, Hungarian accuracy, NMI and inertia beside
    Lloyd's; saves them all in the run. A run that diverges stops with one message (exit 1).
    """

    k: int = option(10, "Number of centres.", min=1, max=MAX_K)
    init: str = option("exemplar", "exemplar (alias cheat: centre i = an image of digit i), random (pixels U[0,1]), "
                       "samples, kmeans++.", choices=INITS, aliases={"cheat": "exemplar"})
    # η; with batch 64 it balances bias and variance (see `nnlab kmeans eta`)
    lr: float = option(4.5, "SGD learning rate η.", min=0, min_open=True, max=1000)
    batch_size: int = option(64, "Mini-batch size b.", min=1, max=MAX_BATCH)
    epochs: int = option(10, "Passes over the training set.", min=0, max=MAX_EPOCHS)
    # 20·score makes the softmax nearly an argmax
    temperature: float = option(20.0, "Softmax sharpness (scores are multiplied by it).", min=0, min_open=True,
                                max=10_000)
    lloyd: bool = option(True, "Also run scikit-learn's Lloyd k-means from the same start.")
    # pixel: nn.MSELoss's mean over batch and pixels, the seed's code; image: its derivation in (a)
    reduction: str = option("pixel", "How the MSE averages: pixel (nn.MSELoss: over the batch and the 784 pixels, "
                            "so each step is ~784x smaller than the seed's α = η/5) or image (the seed's "
                            "derivation: summed over pixels, averaged over the batch; η = 4.5 then diverges).",
                            choices=REDUCTIONS)


@dataclass(frozen=True, kw_only=True)
class EtaConfig(Config):
    """The balanced learning rate η* (bias² = variance) for each batch size, and its curves."""

    batch_size: int = option(64, "Batch size whose bias² and variance curves are plotted.", min=1, max=1_000_000)
    batch_sizes: tuple[int, ...] = option(ETA_BATCH_SIZES, "Batch sizes to tabulate η* for.", min=1,
                                          max=1_000_000, max_items=64, cli=False)
