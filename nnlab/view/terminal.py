"""Figures drawn in the terminal: half-block images and plotext line plots.

Both return Rich renderables, so the console recorder and the Textual browser show the
same thing. They work over plain SSH: only characters and 24-bit colour escape codes.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.text import Text

UPPER_HALF = "▀"  # fg colours the top pixel, bg the bottom one: two pixel rows per line


def _shrink(image: np.ndarray, max_width: int) -> np.ndarray:
    """Area-average `image` (H, W[, 3]) so it is at most `max_width` pixels wide."""
    factor = int(np.ceil(image.shape[1] / max_width))
    if factor <= 1:
        return image
    h, w = image.shape[:2]
    ph, pw = (-h) % factor, (-w) % factor
    pad = [(0, ph), (0, pw)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(image, pad, mode="edge")
    shape = (padded.shape[0] // factor, factor, padded.shape[1] // factor, factor) + padded.shape[2:]
    return padded.reshape(shape).mean(axis=(1, 3))


def halfblock(image: np.ndarray, max_width: int = 96) -> Text:
    """Render a grey (H, W) or colour (H, W, 3) image with values in [0, 1] as half-blocks."""
    pixels = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    pixels = _shrink(pixels, max_width)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.shape[0] % 2:
        pixels = np.concatenate([pixels, np.zeros_like(pixels[:1])], axis=0)
    rgb = (pixels * 255).round().astype(np.uint8)
    text = Text(no_wrap=True, overflow="crop")
    for y in range(0, rgb.shape[0], 2):
        for top, bottom in zip(rgb[y], rgb[y + 1]):
            text.append(UPPER_HALF, style=f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})")
        text.append("\n")
    text.rstrip()
    return text


# Series colours as 256-colour indices (the 16 ANSI ones adapt to the terminal's light or
# dark palette); callers that draw their own legend use the same list.
SERIES_COLORS = (12, 9, 2, 13, 6, 3, 4, 1, 5, 10)


def line_plot(series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "",
              xlabel: str = "", ylabel: str = "", logy: bool = False,
              width: int = 80, height: int = 18, legend: bool = True) -> Text:
    """A plotext line plot of named (xs, ys) series, as Rich text.

    Series i is drawn in SERIES_COLORS[i]; `legend=False` leaves the legend to the caller.
    `logy` drops points that are not positive, which a log axis cannot show.
    (plotext is pinned below 6, a rewrite with another API.)
    """
    import plotext as plt

    plt.clear_figure()
    plt.theme("clear")  # terminal's own colours: readable on light and dark backgrounds
    plt.plotsize(width, height)
    for i, (label, (xs, ys)) in enumerate(series.items()):
        points = [(float(x), float(y)) for x, y in zip(xs, ys)]
        if logy:
            points = [(x, y) for x, y in points if y > 0]
        if points:
            plt.plot([x for x, _ in points], [y for _, y in points], label=label if legend else None,
                     marker="braille", color=SERIES_COLORS[i % len(SERIES_COLORS)])
    if logy:
        plt.yscale("log")
    if title:
        plt.title(title)
    if xlabel:
        plt.xlabel(xlabel)
    if ylabel:
        plt.ylabel(ylabel)
    return Text.from_ansi(plt.build())
