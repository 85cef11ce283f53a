"""PNG figures through matplotlib (headless, no pyplot) and the image grids both outputs share."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

DPI = 110


def image_grid(images: np.ndarray, ncols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile (N, H, W) or (N, H, W, 3) images into one array, `ncols` per row, `pad` pixels apart."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape[:3]
    rows = -(-n // ncols)
    shape = (rows * (h + pad) - pad, ncols * (w + pad) - pad) + images.shape[3:]
    grid = np.full(shape, fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return grid


@functools.cache
def _pyplot():
    """matplotlib's pyplot on the headless Agg backend, set up once per process."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    return plt


def new_figure(figsize: tuple[float, float]):
    """A matplotlib Figure that renders PNGs through Agg, without pyplot's global figure registry."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def save_images(path: Path, images: np.ndarray, *, titles: Sequence[str] | None = None,
                ncols: int = 10, suptitle: str = "", cmap: str = "gray") -> Path:
    """Save (N, H, W[, 3]) images in [0, 1] as a labelled grid PNG.

    One axes shows the whole tiled grid, each title written in a band above its tile: ten
    axes with their own ticks and a tight layout cost six times as much for the same picture.
    """
    images = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    n, h, w = images.shape[:3]
    band = round(h / 3) if titles is not None else 0  # room for one line of 8-point text
    cell_h, cell_w = h + band + 2, w + 2
    tiles = np.full((n, cell_h, cell_w) + images.shape[3:], 1.0, dtype=np.float32)
    tiles[:, band + 1:band + 1 + h, 1:1 + w] = images
    grid = image_grid(tiles, ncols, pad=0)
    width = 1.2 * ncols
    head = 0.4 if suptitle else 0.0
    fig = new_figure((width, width * grid.shape[0] / grid.shape[1] + head))
    ax = fig.add_axes((0, 0, 1, 1 - head / fig.get_figheight()))
    ax.axis("off")
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    for i, title in enumerate(titles or ()):
        r, c = divmod(i, ncols)
        ax.text(c * cell_w + cell_w / 2 - 0.5, r * cell_h + band / 2, title, ha="center", va="center", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, y=1 - 0.5 * head / fig.get_figheight(), va="center")
    return _save(fig, path)


def save_line_plot(path: Path, series: dict[str, tuple[Sequence[float], Sequence[float]]], *,
                   title: str = "", xlabel: str = "", ylabel: str = "", logy: bool = False,
                   logx: bool = False, marks: dict[str, tuple[float, float]] | None = None) -> Path:
    """Save named (xs, ys) series as a line plot PNG; `marks` labels single points."""
    fig = new_figure((7, 4.2))
    ax = fig.subplots()
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, label=label, marker="o" if len(xs) <= 30 else None, markersize=3)
    for label, (x, y) in (marks or {}).items():
        ax.plot([x], [y], "k*", markersize=10)
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 6))
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def save_heatmap(path: Path, matrix: np.ndarray, *, row_labels: Sequence[str], col_labels: Sequence[str],
                 title: str = "", xlabel: str = "", ylabel: str = "") -> Path:
    """Save a count matrix as an annotated heatmap PNG."""
    fig = new_figure((7.5, 6.5))
    ax = fig.subplots()
    im = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(col_labels)), labels=col_labels)
    ax.set_yticks(range(len(row_labels)), labels=row_labels)
    top = matrix.max() if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=7,
                color="white" if value > top / 2 else "black")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _save(fig, path)


def save_scatter(path: Path, points: np.ndarray, labels: np.ndarray, *, label_names: Sequence[str],
                 title: str = "", xlabel: str = "", ylabel: str = "") -> Path:
    """Save (N, 2) points coloured by integer label (tab10, legend from `label_names`) as a PNG."""
    from matplotlib import colormaps

    fig = new_figure((7, 6))
    ax = fig.subplots()
    cmap = colormaps["tab10"]
    for i, name in enumerate(label_names):
        mine = labels == i
        ax.scatter(points[mine, 0], points[mine, 1], s=3, alpha=0.6, color=cmap(i % 10), label=name,
                   rasterized=True)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(markerscale=4, fontsize=8, loc="best")
    fig.tight_layout()
    return _save(fig, path)
