"""The loss landscape's figures: a 3-D surface and a contour map (PNG), and a terminal heatmap image.

The z-axis (and the colours) are f_CE itself, as problem 3 asks; `Scale(log=True)` draws
log10 f_CE instead, which shows more where the window's edges reach losses orders of
magnitude above the path's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnlab.core.figures import _pyplot

CMAP = "viridis"
PATH_COLOUR = "#e8331c"
LIFT = 0.005  # the path is drawn this share of the z range above the surface, so it is not hidden


@dataclass(frozen=True)
class Scale:
    """How losses become heights and colours: f_CE itself, or log10 f_CE."""

    log: bool = False

    @property
    def label(self) -> str:
        """The axis label."""
        return "log10 f_CE" if self.log else "f_CE"

    def __call__(self, losses: np.ndarray) -> np.ndarray:
        return np.log10(losses) if self.log else np.asarray(losses)


def _path_plot(ax, xy: np.ndarray, z: np.ndarray | None = None) -> None:
    args = (xy[:, 0], xy[:, 1]) if z is None else (xy[:, 0], xy[:, 1], z)
    ax.plot(*args, "-", color=PATH_COLOUR, linewidth=1.2, label="SGD path")
    extra = {"depthshade": False} if z is not None else {}  # keep far points red in 3-D
    ax.scatter(*args, color=PATH_COLOUR, s=8, **extra)
    first = [a[:1] for a in args]
    last = [a[-1:] for a in args]
    ax.scatter(*first, color="white", edgecolor="black", s=50, marker="o", label="start", zorder=5)
    ax.scatter(*last, color="black", s=80, marker="*", label="end", zorder=5)


def _azimuth_away_from_peak(surface: np.ndarray) -> float:
    """A camera azimuth (degrees) on the side opposite the window's highest corner, so that
    corner's wall does not hide the path in front of it."""
    corners = {(i, j): surface[i, j] for i in (0, -1) for j in (0, -1)}
    i, j = max(corners, key=corners.get)
    sx, sy = (1 if i == -1 else -1), (1 if j == -1 else -1)
    return float(np.degrees(np.arctan2(-sy, -sx)))


def save_surface(path: Path, xs: np.ndarray, ys: np.ndarray, surface: np.ndarray, xy: np.ndarray,
                 path_loss: np.ndarray, labels: tuple[str, str], scale: Scale = Scale()) -> Path:
    """A 3-D surface of f_CE (or log10 f_CE; surface[i, j] at xs[i], ys[j]) with the path drawn on it."""
    plt = _pyplot()
    fig = plt.figure(figsize=(8, 6.5))
    ax = fig.add_subplot(projection="3d")
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    heights = scale(surface)
    ax.plot_surface(gx, gy, heights, cmap=CMAP, alpha=0.75, linewidth=0, antialiased=True, rstride=1, cstride=1)
    _path_plot(ax, xy, scale(path_loss) + LIFT * max(float(np.ptp(heights)), 1e-12))
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_zlabel(scale.label)
    ax.set_title("training cross-entropy around the SGD path")
    ax.view_init(elev=35, azim=_azimuth_away_from_peak(surface))
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_contour(path: Path, xs: np.ndarray, ys: np.ndarray, surface: np.ndarray, xy: np.ndarray,
                 labels: tuple[str, str], scale: Scale = Scale()) -> Path:
    """Filled contours of f_CE (or log10 f_CE) with the path on top."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    filled = ax.contourf(gx, gy, scale(surface), levels=30, cmap=CMAP)
    ax.contour(gx, gy, scale(surface), levels=15, colors="black", linewidths=0.3, alpha=0.5)
    fig.colorbar(filled, ax=ax, label=scale.label)
    _path_plot(ax, xy)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title("training cross-entropy (contours) and the SGD path")
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def heatmap_image(xs: np.ndarray, ys: np.ndarray, surface: np.ndarray, xy: np.ndarray,
                  labels: tuple[str, str], scale: Scale = Scale(), cell: int = 2) -> tuple[np.ndarray, str]:
    """An RGB image of f_CE (or log10 f_CE) for the terminal, x to the right and y up, with the
    path's cells marked.

    Returns the image and a caption naming the axes and the marks.
    """
    import matplotlib

    values = scale(surface)
    scaled = (values - values.min()) / max(values.max() - values.min(), 1e-12)
    rgb = matplotlib.colormaps[CMAP](scaled)[..., :3]  # (nx, ny, 3)
    ix = np.clip(np.rint((xy[:, 0] - xs[0]) / (xs[-1] - xs[0]) * (len(xs) - 1)).astype(int), 0, len(xs) - 1)
    iy = np.clip(np.rint((xy[:, 1] - ys[0]) / (ys[-1] - ys[0]) * (len(ys) - 1)).astype(int), 0, len(ys) - 1)
    rgb[ix, iy] = (1.0, 0.2, 0.1)  # the path in red
    rgb[ix[0], iy[0]] = (1.0, 1.0, 1.0)  # start white
    rgb[ix[-1], iy[-1]] = (1.0, 0.0, 1.0)  # end magenta
    image = np.transpose(rgb, (1, 0, 2))[::-1]  # rows are y, top row is the largest y
    image = np.kron(image, np.ones((cell, cell, 1)))
    caption = (f"x: {labels[0]} {xs[0]:.3g}…{xs[-1]:.3g}, y: {labels[1]} {ys[0]:.3g}…{ys[-1]:.3g}; "
               f"path red, start white, end magenta")
    return image, caption
