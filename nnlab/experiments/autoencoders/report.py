"""What every autoencoder run shows and saves after training.

Loss curves; test originals above their reconstructions (with the corrupted input on top
when training was denoising); the latent scatter coloured by label (PCA when z is wider
than 2); the decoded mean code over the training set ("common features"); samples from
models that generate.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from nnlab.core.data import Dataset, Split, to_float
from nnlab.core.figures import image_grid, save_images, save_line_plot, save_scatter
from nnlab.core.models.autoencoders import Autoencoder
from nnlab.core.train import EpochResult
from nnlab.experiments.autoencoders.config import sample_count
from nnlab.runs.recorder import Recorder

EVAL_BATCH = 1000  # images per forward pass when evaluating; memory, not results, depends on it
TERMINAL_COLUMNS = 5  # 28-pixel images, 5 per row, stay legible at 100 columns
SCATTER_SIZE = (96, 48)  # terminal scatter in pixels (width, height): 24 lines of half-blocks
LEGEND_PER_LINE = 5  # 5 class names fit in 80 columns, so no name is split across lines
SAMPLE_COLUMNS = 6  # 6 x 30 pixels shrink by only 2 at 100 columns
NOISE_SEED = 1234  # figures and test MSE of noisy runs see the same corruption in every run


def report(model: Autoencoder, data: Dataset, config: Any, history: Sequence[EpochResult],
           recorder: Recorder) -> dict:
    """Draw and save every figure; return the numbers for the summary."""
    model.eval()
    out: dict[str, Any] = {}
    if history:
        loss_curves(history, recorder, config.arch)
    out["test_mse"] = reconstructions(model, data, config.noise, recorder)
    out |= latent_scatter(model, data.test, data.classes, recorder)
    out["mean_latent"] = mean_code(model, data.train, recorder)
    if model.can_sample:
        n = sample_count(config.arch)
        show_samples(model, n, recorder, f"{n} samples from the {config.arch} model")
    return out


# ---- helpers ------------------------------------------------------------------------------

def corrupt(x: torch.Tensor, noise: float, generator: torch.Generator) -> torch.Tensor:
    """x + N(0, noise²) drawn from `generator` (on the CPU, so every device draws the same noise)."""
    if not noise:
        return x
    return x + noise * torch.randn(x.shape, generator=generator).to(x.device)


@torch.no_grad()
def map_batches(fn, split: Split, batch: int = EVAL_BATCH) -> list:
    """Apply `fn` to float batches of a split in order; a list of its results."""
    return [fn(to_float(split.images[i:i + batch])) for i in range(0, len(split), batch)]


def _np(images: torch.Tensor) -> np.ndarray:
    return images.detach().float().cpu().reshape(len(images), 28, 28).clamp(0, 1).numpy()


# ---- figures ------------------------------------------------------------------------------

def loss_curves(history: Sequence[EpochResult], recorder: Recorder, arch: str) -> None:
    """Train and test loss per epoch, as a PNG and in the terminal."""
    epochs = [h.epoch for h in history]
    series = {"train": (epochs, [h.train["loss"] for h in history])}
    if history[0].test:
        series["test"] = (epochs, [h.test["loss"] for h in history])
    save_line_plot(recorder.artifact("loss.png"), series, title=f"{arch}: loss per epoch",
                   xlabel="epoch", ylabel="loss")
    if len(epochs) > 1:
        recorder.plot(series, title="loss per epoch", xlabel="epoch", ylabel="loss")


@torch.no_grad()
def reconstructions(model: Autoencoder, data: Dataset, noise: float, recorder: Recorder) -> float:
    """The first test image of each class above its reconstruction; return the test-set MSE.

    With `noise`, the model sees corrupted inputs (as in training) and the figure has three
    rows: corrupted input, reconstruction, clean original.
    """
    labels = data.test.labels.cpu()
    picks = [int(torch.nonzero(labels == c)[0]) for c in range(len(data.classes)) if (labels == c).any()]
    clean = to_float(data.test.images[torch.tensor(picks, device=data.test.images.device)])
    generator = torch.Generator().manual_seed(NOISE_SEED)  # the same corruption for every run
    seen = corrupt(clean, noise, generator)
    recon = model.reconstruct(seen)
    names = [data.classes[int(labels[i])] for i in picks]
    rows = ([("noisy input", _np(seen))] if noise else []) + [("reconstruction", _np(recon)), ("original", _np(clean))]
    if not noise:
        rows = rows[::-1]  # originals above their reconstructions
    images = np.concatenate([imgs for _, imgs in rows])
    titles = names + [""] * (len(images) - len(names))  # the class above each column; rows in the suptitle
    what = "noisy input / reconstruction / clean original" if noise else "original / reconstruction"
    save_images(recorder.artifact("reconstructions.png"), images, titles=titles, ncols=len(picks),
                suptitle=f"test images · rows: {what}")
    for start in range(0, len(picks), TERMINAL_COLUMNS):
        cols = slice(start, start + TERMINAL_COLUMNS)
        block = np.concatenate([imgs[cols] for _, imgs in rows])
        recorder.image(image_grid(block, ncols=len(names[cols]), pad=2, fill=0.35),
                       title=f"rows: {what} · columns: {', '.join(names[cols])}")
    errors = map_batches(lambda x: ((model.reconstruct(corrupt(x, noise, generator)) - x) ** 2).mean((1, 2, 3)),
                         data.test)
    mse = float(torch.cat(errors).mean())
    recorder.info(f"test reconstruction MSE per pixel: {mse:.5f}" + (f" (inputs with noise σ={noise})" if noise else ""))
    return mse


@torch.no_grad()
def embeddings(model: Autoencoder, split: Split) -> np.ndarray:
    """(N, latent) embeddings of a whole split."""
    return torch.cat(map_batches(model.encode, split)).cpu().numpy()


def to_2d(z: np.ndarray) -> tuple[np.ndarray, str]:
    """z itself when it has at most 2 dimensions, else its first two principal components."""
    if z.shape[1] == 1:
        return np.concatenate([z, np.zeros_like(z)], axis=1), "z (1-D)"
    if z.shape[1] == 2:
        return z, "z"
    centred = z - z.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    share = (s[:2] ** 2).sum() / (s ** 2).sum()
    return centred @ vt[:2].T, f"PCA of {z.shape[1]}-D z ({100 * share:.0f}% of variance)"


TAB10 = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
                  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]]) / 255


def scatter_raster(points: np.ndarray, labels: np.ndarray, size: tuple[int, int] = SCATTER_SIZE) -> np.ndarray:
    """An (H, W, 3) image of the points coloured by label, for the terminal; the outer
    0.5% of points on each axis are clipped so outliers do not squash the picture."""
    width, height = size
    image = np.full((height, width, 3), 0.1)
    lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    xy = np.clip((points - lo) / span, 0, 1)
    cols = (xy[:, 0] * (width - 1)).round().astype(int)
    rows = ((1 - xy[:, 1]) * (height - 1)).round().astype(int)
    order = np.random.default_rng(0).permutation(len(points))  # no class is painted last everywhere
    image[rows[order], cols[order]] = TAB10[labels[order] % 10]
    return image


def latent_scatter(model: Autoencoder, split: Split, classes: Sequence[str], recorder: Recorder) -> dict:
    """The test embeddings coloured by label, as a PNG and in the terminal."""
    z = embeddings(model, split)
    labels = split.labels.cpu().numpy()
    points, what = to_2d(z)
    save_scatter(recorder.artifact("latent.png"), points, labels, label_names=classes,
                 title=f"test set in latent space: {what}", xlabel="dim 1", ylabel="dim 2")
    swatches = [f"[rgb({r},{g},{b})]■[/] {name}" for name, (r, g, b) in zip(classes, (TAB10 * 255).astype(int))]
    recorder.image(scatter_raster(points, labels), title=f"latent space of the test set: {what}")
    for start in range(0, len(swatches), LEGEND_PER_LINE):
        recorder.info("  ".join(swatches[start:start + LEGEND_PER_LINE]))
    dead = [int(i) for i in np.flatnonzero(z.std(0) < 1e-6)]
    if dead:  # e.g. a ReLU on the embedding that outputs 0 for every image
        recorder.warn(f"latent dimension(s) {', '.join(map(str, dead))} of {z.shape[1]} are constant over the "
                      "test set (a dead ReLU?): the embedding effectively has "
                      f"{z.shape[1] - len(dead)} dimension(s)")
    return {"latent_dim": int(z.shape[1]), "dead_latent_dims": len(dead)}


@torch.no_grad()
def mean_code(model: Autoencoder, split: Split, recorder: Recorder) -> list[float]:
    """Decode the mean over the training set of everything the decoder takes (z, and skip maps)."""
    sums: list[torch.Tensor] | None = None
    for start in range(0, len(split), EVAL_BATCH):
        codes = model.codes(to_float(split.images[start:start + EVAL_BATCH]))
        part = [c.sum(0, keepdim=True) for c in codes]
        sums = part if sums is None else [s + p for s, p in zip(sums, part)]
    means = [s / len(split) for s in sums]
    image = _np(model.decode(*means))
    save_images(recorder.artifact("mean_latent.png"), image, titles=["decoded mean z"], ncols=1)
    recorder.image(image[0], title="decoded mean latent over the training set (common features)")
    return [round(float(v), 5) for v in means[0][0]]


@torch.no_grad()
def show_samples(model: Autoencoder, n: int, recorder: Recorder, title: str, name: str = "samples.png") -> np.ndarray:
    """n generated images as a PNG and in the terminal; returns them (n, 28, 28)."""
    images = _np(model.sample(n))
    save_images(recorder.artifact(name), images, ncols=min(10, n), suptitle=title)
    recorder.image(image_grid(images, ncols=min(SAMPLE_COLUMNS, n), pad=2, fill=0.35), title=title)
    return images
