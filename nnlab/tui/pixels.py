"""Real pixels in the browser: a kitty or Sixel image (textual-image), sized in cells to fit its box.

Which protocol to use is decided once, before the app starts (nnlab.view.graphics.detect);
the half-block ImageView in widgets.py stays the fallback.
"""

from __future__ import annotations

from textual.widget import Widget


def cell_size() -> tuple[int, int]:
    """A terminal cell's (width, height) in pixels, as textual-image measured it before the app started."""
    from textual_image._terminal import get_cell_size

    size = get_cell_size()
    return size.width, size.height


def fit_cells(width_px: int, height_px: int, cols: int, rows: int, zoom: int = 1) -> tuple[int, int]:
    """How many (columns, rows) an image of that many pixels takes to fit the box, times the zoom.

    Never enlarged past its own pixels (a 28x28 tile stays sharp rather than blurred).
    """
    cw, ch = cell_size()
    scale = min(cols * cw / max(width_px, 1), rows * ch / max(height_px, 1), 1.0) * zoom
    return max(1, round(width_px * scale / cw)), max(1, round(height_px * scale / ch))


def pixel_widget(mode: str, **kwargs) -> Widget:
    """The textual-image widget for `mode` (kitty or sixel)."""
    from textual_image.widget import SixelImage, TGPImage

    return (TGPImage if mode == "kitty" else SixelImage)(**kwargs)


def show_pixels(widget: Widget, image, size: tuple[int, int]) -> None:
    """Give a pixel widget a PIL image and its size in cells."""
    widget.styles.width, widget.styles.height = size
    widget.image = image
