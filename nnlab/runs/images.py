"""Image artifacts for the terminal: which to show first, reading PNGs, fitting grids to the screen."""

from __future__ import annotations

import io
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.runs.files import Unreadable, read_regular
from nnlab.runs.store import Run

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_FILE_CAP = 50_000_000  # bytes of one image file
MAX_PIXELS = 16_000_000  # 4,000 x 4,000: far more than any terminal shows


def image_artifacts(run: Run) -> list[Path]:
    """The run's image artifacts, the main figures (centres, reconstructions, samples) first."""
    images = [p for p in run.artifacts() if p.suffix.lower() in IMAGE_SUFFIXES]
    first = ("centers", "centres", "recon", "sample", "filter")
    return sorted(images, key=lambda p: (not p.stem.lower().startswith(first), p.name))


def read_image(path: Path, trim: bool = True):
    """A PNG as a float (H, W, 3) array in [0, 1], its uniform margins cut (they waste terminal cells).

    Only a regular file of at most IMAGE_FILE_CAP bytes is read, and its size in pixels is
    checked from the header before anything is decoded (a 20,000 x 20,000 PNG or a
    decompression bomb is refused, not decoded). Raises NnlabError when the file is not
    a readable image.
    """
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        data = read_regular(path, IMAGE_FILE_CAP)
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise Unreadable(f"{width:,} x {height:,} pixels, over the {MAX_PIXELS:,} nnlab draws")
            img = img.convert("RGBA")
            # transparent pixels become white, as they look in an image viewer
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            pixels = np.asarray(Image.alpha_composite(background, img).convert("RGB"), dtype=np.float32) / 255.0
    except UnidentifiedImageError:  # an OSError whose text is the repr of our in-memory buffer
        raise NnlabError(f"cannot read image {path.name}: not a PNG or JPEG image (or cut short)") from None
    except OSError as exc:  # includes PIL's truncated or corrupt streams
        raise NnlabError(f"cannot read image {path.name}: {exc.strerror or exc}") from None
    except Image.DecompressionBombError:  # PIL's own, stricter-than-nothing check fired first
        raise NnlabError(f"cannot read image {path.name}: over the {MAX_PIXELS:,} pixels nnlab draws") from None
    except ValueError as exc:
        raise NnlabError(f"cannot read image {path.name}: {exc}") from None
    if trim and pixels.size:
        corner = pixels[0, 0]
        differs = np.abs(pixels - corner).max(axis=2) > 0.02
        ys, xs = np.nonzero(differs)
        if len(ys):
            pixels = pixels[max(ys.min() - 1, 0):ys.max() + 2, max(xs.min() - 1, 0):xs.max() + 2]
    return pixels


def reflow_tiles(pixels, cols: int, rows: int, gap: int = 3):
    """Re-lay a wide grid of tiles (a row of centres, samples, filters) to fit `cols` x `rows` cells.

    A grid figure ten tiles wide shrunk to 80 columns leaves a few pixels per tile. Cut at
    the background columns that separate tiles (every band of the figure at once, so an
    originals/reconstructions pair stays aligned), drop the gutters, and stack the pieces
    so the whole figure fits the cells (2 pixels per row) with the least shrinking. Figures
    that are not such a grid (fewer than 4 similar tiles) come back unchanged.
    """
    import numpy as np

    bg = pixels[0, 0]
    # a tile column is mostly not background; a column crossed only by a title's text is
    content = (np.abs(pixels - bg).max(axis=2) > 0.02).mean(axis=0) > 0.2
    edges = np.flatnonzero(np.diff(np.r_[0, content.astype(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2]
    if len(starts):
        keep = (ends - starts) >= 0.3 * np.median(ends - starts)  # specks, not tiles
        starts, ends = starts[keep], ends[keep]
    n = len(starts)
    if n < 4 or (ends - starts).max() > 1.6 * (ends - starts).min():
        return pixels
    height = pixels.shape[0]
    tile_w = int((ends - starts).max())

    def shrink(per_row: int) -> int:
        lines = -(-n // per_row)
        width = per_row * tile_w + (per_row - 1) * gap
        return max(-(-width // max(cols, 1)), -(-(lines * height + (lines - 1) * gap) // max(2 * rows, 1)))

    # least shrinking; then fewest lines; then even lines (5 + 5 rather than 7 + 3)
    per_row = min(range(1, n + 1), key=lambda k: (shrink(k), -(-n // k), k))
    if per_row >= n:
        return pixels
    band = []
    for first in range(0, n, per_row):
        line = np.tile(bg, (height, per_row * (tile_w + gap) - gap, 1)).astype(pixels.dtype)
        for j, i in enumerate(range(first, min(first + per_row, n))):
            piece = pixels[:, starts[i]:ends[i]]
            line[:, j * (tile_w + gap):j * (tile_w + gap) + piece.shape[1]] = piece
        band.append(line)
        band.append(np.tile(bg, (gap, line.shape[1], 1)).astype(pixels.dtype))
    return np.concatenate(band[:-1], axis=0)
