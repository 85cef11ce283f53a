"""The console recorder: images drawn only on a terminal, a line naming the PNG elsewhere."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from nnlab.errors import NnlabError
from nnlab.runs.store import RunStore
from nnlab.view.console import ConsoleRecorder

IMAGE = np.linspace(0, 1, 64 * 64).reshape(64, 64)


def recorder(tmp_runs, *, terminal: bool, images: str = "auto"):
    console = Console(file=io.StringIO(), force_terminal=terminal, width=100, color_system="truecolor" if terminal else None)
    return ConsoleRecorder(RunStore(tmp_runs).create("kmeans", {}), RunStore(tmp_runs), console, images)


def shown(rec) -> str:
    return rec.console.file.getvalue()


def test_auto_draws_half_blocks_on_a_terminal(tmp_runs):
    rec = recorder(tmp_runs, terminal=True)
    rec.image(IMAGE, title="centres")
    assert "▀" in shown(rec) and "centres" in shown(rec)


@pytest.mark.parametrize(("terminal", "mode"), [(False, "auto"), (True, "none"), (False, "none")])
def test_elsewhere_one_line_names_the_png(tmp_runs, terminal, mode):
    rec = recorder(tmp_runs, terminal=terminal, images=mode)
    png = rec.artifact("centers.png")
    rec.image(IMAGE, title="centres [after] training")
    lines = shown(rec).strip().splitlines()
    assert lines == [f"image centres [after] training: see {png}"] and "▀" not in shown(rec)
    rec.image(IMAGE, title="other", path=rec.run.path / "artifacts" / "other.png")
    assert shown(rec).strip().splitlines()[-1].endswith("other.png")


def test_halfblock_is_drawn_even_into_a_file(tmp_runs):
    rec = recorder(tmp_runs, terminal=False, images="halfblock")
    rec.image(IMAGE)
    assert shown(rec).count("▀") >= 64


def test_an_unknown_mode_is_refused(tmp_runs):
    with pytest.raises(NnlabError, match="unknown --images 'pretty'"):
        recorder(tmp_runs, terminal=True, images="pretty")
