"""Terminal graphics: detection through a fake terminal on a pty, tmux fallback, and the escape sequences drawn."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest
from rich.console import Console

from nnlab.errors import NnlabError
from nnlab.view import graphics
from nnlab.view.graphics import Graphics, detect, render_image

KITTY_START = "\x1b_G"
DETECT = "from nnlab.view.graphics import detect; print('MODE', detect('auto').mode, flush=True)"


def fake_terminal(answers: dict[bytes, bytes], env: dict[str, str], timeout: float = 20.0) -> tuple[str, bytes]:
    """Run `detect('auto')` in a child whose terminal is this test: reply to each query it writes.

    Returns the mode the child printed and every byte it wrote to the terminal.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 80x24, pixel size unknown
    proc = subprocess.Popen([sys.executable, "-c", DETECT], stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                            env=env, close_fds=True)
    os.close(slave)
    seen, answered = b"", set()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not re.search(rb"MODE \w+\r?\n", seen):
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            for query, reply in answers.items():
                if query in seen and query not in answered:
                    answered.add(query)
                    os.write(master, reply)
            if proc.poll() is not None and not ready:
                break
        proc.wait(timeout=timeout)
    finally:
        os.close(master)
    text = seen.decode("utf-8", "replace")
    mode = text.split("MODE", 1)[1].split()[0] if "MODE" in text else f"no answer: {proc.stderr.read()!r}"
    return mode, seen


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    env.update(extra)
    return env


def test_a_sixel_terminal_is_detected_before_the_app_starts():
    # DA1 answered with attribute 4 (Sixel); the cell size asked with CSI 16 t
    mode, wrote = fake_terminal({b"\x1b[c": b"\x1b[?62;4;22c", b"\x1b[16t": b"\x1b[6;20;10t"}, child_env())
    assert mode == "sixel"
    assert b"\x1b[c" in wrote


def test_a_kitty_terminal_is_detected():
    # no Sixel in DA1; the graphics query (APC G ... a=q) answered OK
    answers = {b"\x1b[c": b"\x1b[?62;22c", b"a=q": b"\x1b_Gi=1;OK\x1b\\", b"\x1b[16t": b"\x1b[6;20;10t"}
    mode, wrote = fake_terminal(answers, child_env())
    assert mode == "kitty"
    assert KITTY_START.encode() in wrote


def test_a_silent_terminal_gets_half_blocks():
    mode, _ = fake_terminal({}, child_env())
    assert mode == "halfblock"


def test_inside_tmux_half_blocks_and_no_query():
    # TMUX set and no tmux server to say allow-passthrough is on: nothing is asked of the terminal
    mode, wrote = fake_terminal({b"\x1b[c": b"\x1b[?62;4;22c"},
                                child_env(TMUX="/nonexistent/tmux-sock,1,0", TMUX_TMPDIR="/nonexistent"))
    assert mode == "halfblock"
    assert b"\x1b[c" not in wrote and KITTY_START.encode() not in wrote


def test_detect_rules_without_a_terminal():
    never = lambda: pytest.fail("the terminal must not be queried")  # noqa: E731
    tmux = {"TMUX": "/tmp/tmux-0/default,1,0"}
    assert detect("auto", env=tmux, is_tty=True, probe=never, passthrough=lambda e: False).mode == "halfblock"
    assert detect("auto", env=tmux, is_tty=True, probe=lambda: "sixel", passthrough=lambda e: True).mode == "sixel"
    assert detect("auto", env={}, is_tty=False, probe=never).mode == "none"
    assert detect("auto", env={}, is_tty=True, probe=lambda: "halfblock").mode == "halfblock"
    assert detect("halfblock", env=tmux, is_tty=True, probe=never).mode == "halfblock"
    with pytest.raises(NnlabError, match="unknown --images 'png'"):
        detect("png")


def gradient() -> np.ndarray:
    y, x = np.mgrid[0:40, 0:60] / 60.0
    return np.stack([x, y, 1 - x], axis=2)


def test_kitty_renderable_uploads_the_image_and_draws_placeholders(monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "__stdout__", terminal)  # textual-image writes uploads straight to the terminal
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system="truecolor")
    console.print(render_image(gradient(), Graphics("kitty", "test"), max_width=12))
    upload = terminal.getvalue()
    assert upload.startswith(KITTY_START) and "f=100" in upload  # a PNG sent in kitty's protocol
    assert "a=p" in upload and "U=1" in upload  # a virtual placement drawn by unicode placeholders
    assert chr(0x10EEEE) in console.file.getvalue()


def test_sixel_renderable_writes_a_sixel_stream():
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system="truecolor")
    console.print(render_image(gradient(), Graphics("sixel", "test"), max_width=12))
    out = console.file.getvalue()
    start = out.index("\x1bP")
    assert out.index("q", start) < start + 12 and "\x1b\\" in out[start:]
    assert "#" in out[start:]  # colour registers


def test_halfblock_and_none():
    text = render_image(gradient(), Graphics("halfblock", "test"), max_width=30)
    assert "▀" in text.plain and max(len(line) for line in text.plain.splitlines()) == 30
    assert render_image(gradient(), Graphics("none", "t"), path=graphics.Path("a/centers.png")).plain \
        == "image: a/centers.png"


# ---- the browser's Images tab with real pixels ------------------------------------------

def on_images_tab(runs, mode: str, check) -> None:
    """Open a kmeans run's Images tab in the browser drawing in `mode`; call check(screen, pixels) there."""
    from pilot import browsing, open_run, sync, until
    from runfactory import make_run

    make_run(runs, "kmeans")

    @sync
    async def run():
        async with browsing(runs, graphics=Graphics(mode, "test")) as (_, pilot):
            screen = await open_run(pilot, "command:kmeans")
            await pilot.press("3")
            pane = screen.query_one("#image-pane")
            await until(pilot, lambda: pane.image is not None)
            await pilot.pause(0.2)
            check(screen, screen.query_one("#pixels"))
    run()


def test_browser_draws_kitty_pixels(tmp_runs, monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "__stdout__", terminal)

    def check(screen, widget):
        assert widget.display and not screen.query_one("#image").display
        assert 0 < widget.styles.width.value <= 78 and widget.styles.height.value <= 20
        assert "kitty" in str(screen.query_one("#image-info").content)
    on_images_tab(tmp_runs, "kitty", check)
    upload = terminal.getvalue()
    assert KITTY_START + "i=" in upload and "f=100" in upload and "a=p" in upload


def test_browser_draws_sixel_pixels(tmp_runs):
    from textual.geometry import Region

    def check(screen, widget):
        inner = widget.children[0]  # textual-image's widget that injects the Sixel stream
        strips = inner.render_lines(Region(0, 0, inner.size.width, inner.size.height))
        out = "".join(seg.text for strip in strips for seg in strip)
        start = out.index("\x1bP")
        assert out.index("q", start) < start + 12  # DCS P1;P2;P3 q: a Sixel image starts
        assert "\x1b\\" in out[start:] and "#" in out[start:]  # colour registers, then the terminator
    on_images_tab(tmp_runs, "sixel", check)
