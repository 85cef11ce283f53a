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


def test_without_a_png_the_line_says_the_image_was_not_drawn(tmp_runs):
    rec = recorder(tmp_runs, terminal=False)
    rec.image(IMAGE, title="latent space")
    assert shown(rec).strip() == "image latent space (not drawn here)"


def test_halfblock_is_drawn_even_into_a_file(tmp_runs):
    rec = recorder(tmp_runs, terminal=False, images="halfblock")
    rec.image(IMAGE)
    assert shown(rec).count("▀") >= 64


def test_an_unknown_mode_is_refused(tmp_runs):
    with pytest.raises(NnlabError, match="unknown --images 'pretty'"):
        recorder(tmp_runs, terminal=True, images="pretty")


# ---- console.log --------------------------------------------------------------------------

def log_of(writer) -> str:
    return (writer.path / "console.log").read_text(encoding="utf-8")


def test_what_a_run_shows_is_in_its_console_log_as_plain_text(tmp_runs):
    rec = recorder(tmp_runs, terminal=True)  # colours and a live bar on the console...
    rec.info("[bold]hello[/] world")
    rec.warn("careful")
    rec.table("scores", ["k", "acc"], [[1, 0.5], [2, 0.75]])
    png = rec.artifact("centers.png")
    rec.image(IMAGE, title="centres")
    with rec.progress(3, "epochs") as bar:
        for _ in range(3):
            bar.advance(1, "loss 0.1")
    with rec.live_table("sweep", ["lr", "acc"]) as live:
        live.update([[0.1, 0.9]])
    rec.run.finish("completed")
    log = log_of(rec.run)  # ...and plain text in the log, appended as it went
    assert "\x1b" not in log and "▀" not in log and "[bold]" not in log
    for text in ("hello world", "careful", "scores", "0.75", f"image centres: see {png}", "epochs 3/3 loss 0.1",
                 "sweep", "0.9"):
        assert text in log, text
    assert "\x1b[" in shown(rec) and "▀" in shown(rec)


def test_a_child_run_logs_to_its_own_and_its_parents_log(tmp_runs):
    rec = recorder(tmp_runs, terminal=False)
    rec.info("parent line")
    with rec.child("sweep trial", {"lr": 0.1}) as child:
        child.info("child line")
        child_writer = child.run
    rec.run.finish("completed")
    assert "child line" in log_of(child_writer) and "parent line" not in log_of(child_writer)
    assert "parent line" in log_of(rec.run) and "child line" in log_of(rec.run)


def test_console_log_strips_escapes_and_stops_at_its_cap(tmp_path):
    from nnlab.runs.files import ConsoleLog

    log = ConsoleLog(tmp_path / "console.log", cap=100)
    log.write("\x1b[31mred\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\n")
    for i in range(50):
        log.write(f"line {i}\n")
    log.close()
    text = (tmp_path / "console.log").read_text()
    assert text.startswith("red link\nline 0\n")
    assert text.endswith("[console.log truncated at 100 bytes]\n") and text.count("truncated") == 1
    assert len(text.encode()) <= 100 + len("[console.log truncated at 100 bytes]\n")
