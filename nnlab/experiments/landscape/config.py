"""Settings of `nnlab landscape`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from nnlab.experiments.base import MAX_BATCH, CommonConfig, dataset_option, option

DIRECTIONS = ("pca", "random")
MAX_SUBSET = 70_000  # the largest training set it reads (Fashion-MNIST and MNIST have 60,000)
MAX_LAYERS = 16
MAX_UNITS = 1024  # every snapshot holds all parameters: 16 layers of 1024 is 66 MB each
MAX_EPOCHS = 10_000
MAX_SNAPSHOTS = 100  # per epoch
MAX_GRID = 401  # 160,801 points, each a pass over the subset
MAX_CHUNK = 4096


@dataclass(frozen=True, kw_only=True)
class LandscapeConfig(CommonConfig):
    """Draw the cross-entropy surface around the MLP's SGD path, in the plane of its top two PCs.

    The plane is sklearn's PCA of the parameter snapshots, centred at the path's mean; the
    z-axis is the unregularised training f_CE on the subset (--log-z: log10 f_CE). Prints
    the explained variance, the grid's evaluation speed and a heatmap with the path; saves
    surface.png (3-D, path drawn on it), contour.png, surface.csv and path.csv.
    """

    directions: str = option("pca", "pca (sklearn's top two principal components of the path, the plane "
                             "through its mean) or random (filter-normalised, through the final parameters; Li et "
                             "al. 2018).", choices=DIRECTIONS)
    log_z: bool = option(False, "Draw log10 f_CE instead of f_CE (z-axis, contours and heatmap).", negatable=False)
    grid: int = option(31, "Grid points per side.", min=3, max=MAX_GRID)
    subset: int = option(2500, "Training examples used to train and to estimate the loss.", min=10,
                         max=MAX_SUBSET)
    snapshots: int = option(4, "Parameter snapshots per epoch.", min=1, max=MAX_SNAPSHOTS)
    # each side of the window extends the path's extent by this share
    margin: float = option(0.25, "Window margin each side, as a share of the path's extent.", min=0, max=100)
    # `nnlab mlp`'s network, trained on the subset with a larger step
    layers: int = option(3, "Hidden layers.", min=1, max=MAX_LAYERS)
    units: int = option(50, "Units per hidden layer.", min=1, max=MAX_UNITS)
    lr: float = option(0.05, "SGD learning rate.", min=0, min_open=True, max=100)
    batch_size: int = option(64, "Mini-batch size.", min=1, max=MAX_BATCH)
    epochs: int = option(20, "Passes over the subset.", min=1, max=MAX_EPOCHS)
    l2: float = option(1e-4, "L2 strength on weight matrices during training (the plotted loss has none).",
                       min=0, max=100)
    momentum: float = option(0.9, "SGD momentum.", min=0, max=1, max_open=True)
    chunk: int = option(64, "Grid points evaluated per batched (vmap) call.", min=1, max=MAX_CHUNK)
    dataset: str = dataset_option("fashion-mnist", "fashion-mnist, mnist or digits (embedded, offline).")
    # the digits stand in for MNIST only when asked for by name
    fallback: bool = option(False, "Use the embedded digits when MNIST cannot be had.", cli=False)
