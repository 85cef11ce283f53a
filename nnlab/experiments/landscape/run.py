"""`nnlab landscape`: the loss surface around an MLP's SGD path (problem 3).

The MLP is trained on a small subset while the parameters are snapshotted several times
per epoch. Two directions span a plane: the top two principal components of the snapshots
(scikit-learn's PCA, as the assignment allows: the plane passes through the path's mean,
and a grid point (x, y) is pca.inverse_transform([x, y])), or filter-normalised random
directions through the final parameters (Li et al. 2018). The unregularised cross-entropy
f_CE on the subset is evaluated on a grid over that plane in batches of points
(torch.func.functional_call under vmap), and drawn as a 3-D surface whose z-axis is f_CE
(log10 f_CE with --log-z) and a contour map with the path on them, and as a terminal heatmap.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn import functional as F
from torch.nn.utils import parameters_to_vector

from nnlab.core.classification import classification_objective, standardiser
from nnlab.core.data import Batches
from nnlab.core.models.classifiers import MLP
from nnlab.core.train import Callback, TrainState, fit
from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.landscape.config import LandscapeConfig
from nnlab.experiments.landscape.figures import Scale, heatmap_image, save_contour, save_surface
from nnlab.runs.recorder import Recorder


# ---- snapshots and directions ------------------------------------------------------------

class Snapshots(Callback):
    """Flattened parameters every `every` optimizer steps (the caller adds the initial ones)."""

    def __init__(self, every: int):
        self.every = every
        self.vectors: list[torch.Tensor] = []
        self.steps: list[int] = []

    def take(self, model: nn.Module, step: int) -> None:
        """Keep a copy of the parameters as they are at `step`."""
        self.vectors.append(parameters_to_vector(model.parameters()).detach().clone())
        self.steps.append(step)

    def on_step_end(self, state: TrainState) -> None:
        if state.step % self.every == 0:
            self.take(state.model, state.step)


def pca_directions(snapshots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """sklearn's PCA of the (S, D) path: its mean (D,), the top two components (2, D) and each
    one's explained variance ratio.

    Each component's sign is chosen so the path's start lies at positive coordinates (a
    component is defined up to sign; this only keeps the figures' orientation stable).
    """
    from sklearn.decomposition import PCA

    path = snapshots.detach().cpu().double().numpy()
    pca = PCA(n_components=2, svd_solver="full").fit(path)  # centres on the path's mean itself
    directions = torch.from_numpy(pca.components_.copy())
    first = (path[0] - pca.mean_) @ pca.components_.T  # = pca.transform(path[:1])
    directions *= torch.from_numpy(np.where(first < 0, -1.0, 1.0))[:, None]
    mean = torch.from_numpy(pca.mean_)
    return mean.to(snapshots), directions.to(snapshots), pca.explained_variance_ratio_.copy()


def random_directions(model: nn.Module, generator: torch.Generator) -> torch.Tensor:
    """(2, D) filter-normalised random directions (Li et al. 2018).

    Each row of a weight matrix (one unit's incoming weights, its "filter") gets the norm
    of the same row of the trained weights; biases get 0, as in the paper.
    """
    rows = []
    for _ in range(2):
        parts = []
        for p in model.parameters():
            d = torch.randn(p.shape, generator=generator).to(p.device)
            if p.dim() < 2:
                d.zero_()
            else:
                d *= p.detach().norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
            parts.append(d.flatten())
        rows.append(torch.cat(parts))
    return torch.stack(rows)


def project(snapshots: torch.Tensor, origin: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(S, 2) least-squares coordinates of the snapshots in the plane through `origin`, and the
    share of the path's squared displacement from `origin` the plane keeps."""
    offsets = snapshots - origin  # (S, D)
    coords = torch.linalg.lstsq(directions.T, offsets.T).solution.T  # directions need not be orthogonal
    kept = ((coords @ directions) ** 2).sum() / (offsets ** 2).sum().clamp_min(1e-30)
    return coords, float(kept)


def window(coords: np.ndarray, margin: float, minimum: float = 0.0) -> list[tuple[float, float]]:
    """Per axis (low, high) that holds every path point and 0, widened by `margin` of the extent each side."""
    spans = []
    for axis in coords.T:
        low, high = min(axis.min(), 0.0), max(axis.max(), 0.0)
        pad = margin * max(high - low, 1e-6)
        low, high = low - pad, high + pad
        if high - low < 2 * minimum:  # random directions: the path barely moves in them
            low, high = min(low, -minimum), max(high, minimum)
        spans.append((float(low), float(high)))
    return spans


# ---- batched evaluation of the plane -----------------------------------------------------

def _batched_loss(model: nn.Module, images: torch.Tensor, labels: torch.Tensor):
    """A function (B, D) flat parameter vectors -> (B,) mean cross-entropy on the examples.

    The model is called through functional_call under vmap, so one call evaluates B
    parameter vectors on the whole example set as batched matrix products.
    """
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    buffers = dict(model.named_buffers())

    def loss_at(params: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = functional_call(model, (params, buffers), (images,))  # (N, classes)
        return F.cross_entropy(logits, labels)

    batched = vmap(loss_at)

    def losses(flat: torch.Tensor) -> torch.Tensor:
        params = {n: t.reshape(len(flat), *s) for n, t, s in zip(names, flat.split(sizes, dim=1), shapes)}
        return batched(params)

    return losses


@torch.no_grad()
def vector_losses(model: nn.Module, vectors: torch.Tensor, images: torch.Tensor, labels: torch.Tensor,
                  chunk: int = 64) -> torch.Tensor:
    """Mean cross-entropy of each (P, D) flat parameter vector, `chunk` vectors per batched call."""
    losses = _batched_loss(model.eval(), images, labels)
    return torch.cat([losses(vectors[i:i + chunk]) for i in range(0, len(vectors), chunk)])


@torch.no_grad()
def plane_losses(model: nn.Module, origin: torch.Tensor, directions: torch.Tensor, coords: torch.Tensor,
                 images: torch.Tensor, labels: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Mean cross-entropy at origin + a·d1 + b·d2 for each (a, b) row of `coords`, `chunk` points per call."""
    losses = _batched_loss(model.eval(), images, labels)
    out = []
    for start in range(0, len(coords), chunk):
        c = coords[start:start + chunk].to(origin)  # (B, 2)
        out.append(losses(origin + c @ directions))  # (B, 2) @ (2, D) -> (B, D) -> (B,)
    return torch.cat(out)


def grid_coords(spans: list[tuple[float, float]], n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The axes (n,), (n,) and the (n·n, 2) points, row-major: point i·n + j is (xs[i], ys[j])."""
    xs = torch.linspace(*spans[0], n, dtype=torch.float64).float()
    ys = torch.linspace(*spans[1], n, dtype=torch.float64).float()
    return xs, ys, torch.cartesian_prod(xs, ys)


# ---- the run -----------------------------------------------------------------------------

def preflight(config: LandscapeConfig, store=None) -> Setup:
    """The shared preflight, and a subset the training set can give."""
    setup = base.preflight(config, store)
    if config.subset > len(setup.data.train):
        raise NnlabError(f"--subset {config.subset} exceeds the {len(setup.data.train):,} training images")
    return setup


def run(config: LandscapeConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train on the subset with snapshots, pick the plane, evaluate the grid, draw the figures."""
    setup = prepare(config, recorder, setup, preflight)
    data, device, generator = setup.data, setup.device, setup.generator
    subset = data.train.subset(torch.randperm(len(data.train), generator=generator)[:config.subset].to(device))
    transform = standardiser(subset)
    images, labels = transform(subset.images), subset.labels
    recorder.info(f"{data.name}: training on a subset of {len(subset):,} images on {device}")

    model = MLP(config.layers, config.units, classes=len(data.classes)).to(device)
    train = Batches(subset, config.batch_size, generator=generator, transform=transform)
    snaps = Snapshots(max(1, len(train) // config.snapshots))
    snaps.take(model, 0)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    fit(model, optimizer, classification_objective(config.l2), train, epochs=config.epochs, recorder=recorder,
        callbacks=(snaps,), log_every=max(1, len(train)))
    final = parameters_to_vector(model.parameters()).detach()
    total_steps = len(train) * config.epochs
    if snaps.steps[-1] != total_steps:  # the final parameters always close the path
        snaps.take(model, total_steps)
    path = torch.stack(snaps.vectors)  # (S, D)

    if config.directions == "pca":
        origin, directions, share = pca_directions(path)
        coords, kept = project(path, origin, directions)
        recorder.info(f"sklearn PCA of {len(path)} snapshots (centred on the path's mean): PC1 explains "
                      f"{100 * share[0]:.1f}%, PC2 {100 * share[1]:.1f}% of the path's variance")
        labels_xy = (f"PC1 ({100 * share[0]:.1f}%)", f"PC2 ({100 * share[1]:.1f}%)")
        spans = window(coords.cpu().numpy(), config.margin)
    else:
        origin, directions = final, random_directions(model, generator)
        coords, kept = project(path, origin, directions)
        share = None  # random directions explain nothing; `kept` says how much of the path they see
        recorder.info(f"filter-normalised random directions keep {100 * kept:.2f}% of the path's squared "
                      "displacement; the window is at least [-1, 1] (one weight norm) each way")
        labels_xy = ("random direction 1", "random direction 2")
        spans = window(coords.cpu().numpy(), config.margin, minimum=1.0)

    xs, ys, points = grid_coords(spans, config.grid)
    start = time.perf_counter()
    losses = plane_losses(model, origin, directions, points, images, labels, config.chunk)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    surface = losses.reshape(config.grid, config.grid).cpu().numpy()  # surface[i, j] at (xs[i], ys[j])
    on_plane = plane_losses(model, origin, directions, coords, images, labels, config.chunk).cpu().numpy()
    actual = vector_losses(model, path, images, labels, config.chunk).cpu().numpy()  # the snapshots themselves
    rate = len(points) / seconds
    recorder.info(f"evaluated {len(points):,} grid points on {len(subset):,} images in {seconds:.2f}s "
                  f"({rate:,.0f} points/s, {config.chunk} per batched call)")

    xy = coords.cpu().numpy()
    _save_tables(recorder, xs.numpy(), ys.numpy(), surface, snaps.steps, xy, on_plane, actual)
    scale = Scale(config.log_z)
    save_surface(recorder.artifact("surface.png"), xs.numpy(), ys.numpy(), surface, xy, on_plane, labels_xy, scale)
    save_contour(recorder.artifact("contour.png"), xs.numpy(), ys.numpy(), surface, xy, labels_xy, scale)
    image, caption = heatmap_image(xs.numpy(), ys.numpy(), surface, xy, labels_xy, scale)
    recorder.image(image, title=f"unregularised {scale.label} over the plane (dark low, bright high); " + caption)
    summary = {"directions": config.directions, "explained_variance": None if share is None else share.tolist(),
               "plane_origin": "path mean" if config.directions == "pca" else "final parameters",
               "z": scale.label,
               "path_variance_kept": kept,
               "grid": config.grid, "window": spans, "loss_min": float(surface.min()),
               "loss_max": float(surface.max()), "path_start_loss": float(on_plane[0]),
               "path_end_loss": float(on_plane[-1]), "start_loss": float(actual[0]), "final_loss": float(actual[-1]),
               "grid_points_per_s": rate, "snapshots": len(path)}
    recorder.summary(summary)
    return summary


def _save_tables(recorder: Recorder, xs, ys, surface, steps, xy, on_plane, actual) -> None:
    recorder.save_csv("surface.csv", ["x", "y", "loss"],
                      [[float(x), float(y), float(surface[i, j])] for i, x in enumerate(xs) for j, y in enumerate(ys)])
    recorder.save_csv("path.csv", ["step", "x", "y", "loss_on_plane", "loss"],
                      [[s, float(a), float(b), float(v), float(w)] for s, (a, b), v, w in zip(steps, xy, on_plane, actual)])
