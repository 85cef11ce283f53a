"""PNG figures: written, readable, the expected size, and drawn without pyplot's global state."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from nnlab.core.figures import DPI, save_heatmap, save_images


def test_image_grid_png_has_one_cell_per_image_and_its_titles(tmp_path):
    images = np.zeros((12, 28, 28))
    images[3] = 1.0  # one white tile among black ones
    path = save_images(tmp_path / "grid.png", images, titles=[str(i) for i in range(12)], ncols=6,
                       suptitle="centres")
    width, height = Image.open(path).size
    assert width == round(1.2 * 6 * DPI)
    grid_h = 2 * (28 + round(28 / 3) + 2)  # two rows of title band + tile + border
    assert height == round((1.2 * 6 * grid_h / (6 * 30) + 0.4) * DPI)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.max() == 255 and pixels.min() < 40  # white tile, black tiles and text are drawn


def test_figures_do_not_import_pyplot(tmp_path):
    code = ("import sys, numpy as np; from pathlib import Path; from nnlab.core.figures import save_images, save_heatmap;"
            f"save_images(Path(r'{tmp_path}') / 'a.png', np.zeros((3, 8, 8)));"
            f"save_heatmap(Path(r'{tmp_path}') / 'b.png', np.eye(3), row_labels=list('abc'), col_labels=list('abc'));"
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert Image.open(tmp_path / "b.png").size == (round(7.5 * DPI), round(6.5 * DPI))


def test_heatmap_is_readable(tmp_path):
    path = save_heatmap(tmp_path / "h.png", np.arange(9).reshape(3, 3), row_labels=list("abc"),
                        col_labels=list("xyz"), title="t")
    assert Image.open(path).format == "PNG"
