"""The two figures of `ae corrupt-demo`: clean beside corrupted, and the DAE's corrections as arrows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from nnlab.core.figures import _pyplot
from nnlab.experiments.corruption.manifolds import polylines

ARROWS = 250  # arrows drawn (a random subset): more hide the curve


def _draw_curve(ax, data: str) -> None:
    for i, line in enumerate(polylines(data)):
        ax.plot(line[:, 0], line[:, 1], color="black", linewidth=1, alpha=0.6, label="clean curve" if i == 0 else None)


def _finish(fig, path: Path) -> tuple[Path, np.ndarray]:
    """Save the PNG and return it as an (H, W, 3) array in [0, 1] for the terminal too."""
    plt = _pyplot()
    fig.set_dpi(100)
    fig.tight_layout()
    fig.canvas.draw()  # one render serves the PNG and the terminal
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.imsave(path, rgba)
    plt.close(fig)
    return path, rgba[..., :3].astype(np.float32) / 255.0


def _limits(*arrays: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits holding the central 99% of every point (an outlier must not shrink the curve)."""
    both = np.concatenate(arrays)
    lo, hi = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
    pad = 0.08 * (hi - lo).max()
    return (lo[0] - pad, hi[0] + pad), (lo[1] - pad, hi[1] + pad)


def save_corruption(path: Path, data: str, clean: np.ndarray, noisy: np.ndarray, title: str,
                    formula: str) -> tuple[Path, np.ndarray]:
    """Clean points and the same points corrupted, side by side on the same axes."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharex=True, sharey=True)
    xlim, ylim = _limits(clean, noisy)
    for ax, points, name, color in ((axes[0], clean, f"original: {data}", "tab:blue"),
                                    (axes[1], noisy, f"corrupted: {title}", "tab:red")):
        _draw_curve(ax, data)
        ax.scatter(points[:, 0], points[:, 1], s=6, color=color, alpha=0.7)
        ax.set_title(name)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.grid(alpha=0.3)
    fig.suptitle("\n".join(textwrap.wrap(formula, 100)), fontsize=10)
    return _finish(fig, path)


def save_corrections(path: Path, data: str, noisy: np.ndarray, reconstructed: np.ndarray, changed: np.ndarray,
                     title: str, seed: int) -> tuple[Path, np.ndarray]:
    """Corrupted points, their reconstructions, and an arrow from each to the other."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    _draw_curve(ax, data)
    ax.scatter(noisy[:, 0], noisy[:, 1], s=6, color="tab:red", alpha=0.5, label="corrupted x̃")
    ax.scatter(reconstructed[:, 0], reconstructed[:, 1], s=6, color="tab:blue", alpha=0.8,
               label="reconstruction f(x̃)")
    moved = np.flatnonzero(changed)
    pick = np.random.default_rng(seed).permutation(moved)[:ARROWS]
    delta = reconstructed[pick] - noisy[pick]
    ax.quiver(noisy[pick, 0], noisy[pick, 1], delta[:, 0], delta[:, 1], angles="xy", scale_units="xy", scale=1,
              width=0.0025, color="tab:gray", alpha=0.8)
    xlim, ylim = _limits(noisy, reconstructed)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=10)
    return _finish(fig, path)
