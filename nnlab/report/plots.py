"""PNG figures a report draws itself with matplotlib: curves from metrics.jsonl, and tiles cut
from the image grids runs saved (so deliverables can be composed without retraining)."""

from __future__ import annotations

import io
import re
from typing import Iterable, Sequence

import numpy as np

from nnlab.runs.series import curves, metric_names

MAX_CURVES = 6  # metric names drawn per run; the trainer records loss, acc and a few more
BACKGROUND_TOLERANCE = 0.06
SPEED = re.compile(r"per_s(ec(ond)?)?$|images_per|seconds$|_time$")


def pyplot():
    """matplotlib's pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def to_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    plt = pyplot()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def draw_series(ax, series: dict[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str, ylabel: str,
                title: str = "") -> None:
    """Named (xs, ys) series on one axis, with markers when there are few points."""
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o" if len(xs) <= 12 else None, label=name)
    xs_all = sorted({x for xs, _ in series.values() for x in xs})
    if xlabel in ("epoch", "step") and len(xs_all) <= 12:
        ax.set_xticks(xs_all)  # one tick per epoch; a single epoch gets no fractional ticks
    elif xlabel in ("epoch", "step"):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)


def metric_curves(rows: Iterable[dict]) -> list[tuple[str, bytes]]:
    """One PNG per recorded metric (train/val/test as lines), per epoch when epochs are recorded.

    The running `step_loss` is drawn per step. Returns (metric name, png) pairs.
    """
    rows = list(rows)
    out = []
    names = [n for n in metric_names(rows) if not SPEED.search(n)]  # throughput is no result
    for name in names[:MAX_CURVES]:
        by = "step" if name == "step_loss" else "epoch"
        series = curves(rows, name, by=by)
        if not series:
            by = "step"
            series = curves(rows, name, by=by)
        if not series or all(len(xs) == 0 for xs, _ in series.values()):
            continue
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(5.6, 3.2))
        draw_series(ax, series, xlabel=by, ylabel=name, title=f"{name} per {by}")
        out.append((name, to_png(fig)))
    return out


# ---- tiles: the images inside a saved grid figure ------------------------------------------

def read_pixels(png: bytes) -> np.ndarray:
    """PNG bytes as a float (H, W, 3) array in [0, 1] on white."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.float32) / 255.0


def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]


def tile_rows(pixels: np.ndarray, min_size: int = 12) -> list[list[np.ndarray]]:
    """The image tiles of a grid figure (matplotlib's save_images), row by row.

    A tile is a block of non-background pixels at least `min_size` on each side; rows of
    text (titles) are thin and sparse, so they are not tiles. Returns [] when none is found.
    """
    background = pixels[0, 0]
    ink = np.abs(pixels - background).max(axis=2) > BACKGROUND_TOLERANCE
    rows = []
    for top, bottom in _runs(ink.mean(axis=1) > 0.15, min_size):
        band = ink[top:bottom]
        tiles = [pixels[top:bottom, left:right] for left, right in _runs(band.mean(axis=0) > 0.6, min_size)]
        if tiles:
            rows.append(tiles)
    return rows


def strip(tiles: Sequence[np.ndarray], gap: int = 2) -> np.ndarray:
    """Tiles side by side on white, `gap` pixels apart (heights padded to the tallest)."""
    height = max(t.shape[0] for t in tiles)
    width = sum(t.shape[1] for t in tiles) + gap * (len(tiles) - 1)
    out = np.ones((height, width, 3), dtype=np.float32)
    x = 0
    for tile in tiles:
        out[:tile.shape[0], x:x + tile.shape[1]] = tile
        x += tile.shape[1] + gap
    return out


def show(ax, image: np.ndarray, title: str) -> None:
    """An image on an axis without ticks."""
    ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
