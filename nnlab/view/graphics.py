"""Terminal graphics: which way to draw pixels (kitty, Sixel, half-blocks or not at all), and drawing them.

`detect()` must run before a Textual app starts: it asks the terminal what it supports
(through textual-image, which writes a query and reads the answer from stdin, something
it cannot do once Textual owns stdin). Inside tmux the answer would come from tmux, which
passes graphics on only with `allow-passthrough`, so there half-blocks are used unless it
is on. Half-blocks are the fallback everywhere: plain characters and 24-bit colour, they
survive any SSH hop.

Shared by `nnlab browse`, `runs show --images` and the console recorder, so one
`--images` value means the same everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from nnlab.errors import NnlabError

MODES = ("auto", "kitty", "sixel", "halfblock", "none")
PIXEL_MODES = ("kitty", "sixel")  # drawn with real pixels by textual-image


@dataclass(frozen=True)
class Graphics:
    """How images are drawn: `mode` is kitty, sixel, halfblock or none; `reason` says why."""

    mode: str
    reason: str

    @property
    def pixels(self) -> bool:
        """True when the terminal draws real pixels (kitty or Sixel)."""
        return self.mode in PIXEL_MODES


def tmux_passthrough(env: Mapping[str, str]) -> bool:
    """True when the tmux we run in lets graphics escape sequences through (`allow-passthrough on`)."""
    try:
        out = subprocess.run(["tmux", "show-options", "-gv", "allow-passthrough"], capture_output=True,
                             text=True, timeout=1, env=dict(env))
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() in ("on", "all")


def query_terminal() -> str:
    """Ask the terminal (through textual-image) for Sixel or kitty graphics: 'sixel', 'kitty' or 'halfblock'.

    textual-image queries when its renderables are first imported, Sixel first (kitty's
    protocol works better, but terminals that claim it often lack the placeholders it needs).
    """
    from textual_image import renderable

    chosen = {renderable.SixelImage: "sixel", renderable.TGPImage: "kitty"}.get(renderable.Image)
    if chosen is None:
        return "halfblock"
    # the widgets need the cell size too, and it also can only be asked before Textual starts
    return chosen if probe_cell_size() else "halfblock"


def detect(requested: str = "auto", *, env: Mapping[str, str] | None = None, is_tty: bool | None = None,
           probe: Callable[[], str] = query_terminal,
           passthrough: Callable[[Mapping[str, str]], bool] = tmux_passthrough) -> Graphics:
    """Resolve an `--images` value to the way images will be drawn.

    A mode other than auto is taken as asked. auto gives none when stdout is not a
    terminal (a log gets a one-line pointer to the PNG instead), half-blocks inside tmux
    without passthrough, else what the terminal answers, else half-blocks.
    Raises NnlabError for an unknown mode.
    """
    if requested not in MODES:
        raise NnlabError(f"unknown --images '{requested}'; use one of {', '.join(MODES)}")
    env = os.environ if env is None else env
    if requested != "auto":
        if requested in PIXEL_MODES and not probe_cell_size():
            return Graphics("halfblock", f"--images {requested}, but the terminal has no size (half-blocks)")
        return Graphics(requested, f"--images {requested}")
    tty = (sys.__stdout__ is not None and sys.__stdout__.isatty()) if is_tty is None else is_tty
    if not tty:
        return Graphics("none", "stdout is not a terminal")
    if env.get("TMUX") and not passthrough(env):
        return Graphics("halfblock", "inside tmux without allow-passthrough")
    found = probe()
    if found in PIXEL_MODES:
        return Graphics(found, f"the terminal answered {found}")
    return Graphics("halfblock", "no kitty or Sixel graphics detected")


def probe_cell_size() -> bool:
    """Fill textual-image's cache of the cell size in pixels (asked once, before Textual starts).

    False when it cannot be had: a terminal that reports 0 columns makes textual-image divide by zero.
    """
    from textual_image._terminal import TerminalError, get_cell_size

    try:
        get_cell_size()
    except (ZeroDivisionError, TerminalError):
        return False
    return True


def to_pil(pixels):
    """A float (H, W[, 3]) array in [0, 1] as an 8-bit RGB PIL image."""
    import numpy as np
    from PIL import Image

    array = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return Image.fromarray((array * 255).round().astype(np.uint8), "RGB")


def render_image(pixels, graphics: Graphics, *, max_width: int = 96, path: Path | None = None):
    """A Rich renderable of `pixels` ((H, W[, 3]) in [0, 1]) drawn the way `graphics` says.

    kitty and Sixel scale the image to `max_width` cells (textual-image); half-blocks
    shrink it to `max_width` columns; none gives one line naming `path`.
    """
    from rich.text import Text

    if graphics.mode == "none":
        return Text(f"image: {path}" if path is not None else "image (not drawn: --images none)", style="dim")
    if graphics.mode == "halfblock":
        from nnlab.view.terminal import halfblock

        return halfblock(pixels, max_width=max_width)
    image = to_pil(pixels)
    width = max(1, min(max_width, image.width))
    if graphics.mode == "kitty":
        from textual_image.renderable.tgp import Image as KittyImage

        return KittyImage(image, width=width, height="auto")
    from textual_image.renderable.sixel import Image as SixelImage

    return SixelImage(image, width=width, height="auto")
