"""Atomic, bounded writes: whole or absent, whatever signal or error arrives mid-way."""

from __future__ import annotations

import io
import signal

import pytest

from nnlab.core.data.atomic import atomic_output
from nnlab.errors import NnlabError


class Terminated(Exception):
    pass


def test_sigterm_mid_write_removes_the_file_then_reaches_its_handler(tmp_path):
    seen = []

    def on_term(signum, frame):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))  # what exists when the handler runs
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with pytest.raises(Terminated):
            with atomic_output(tmp_path / "target") as sink:
                sink.write(b"x" * 1000)
                signal.raise_signal(signal.SIGTERM)  # a real signal, to this process
                sink.write(b"y" * 1000)  # stops here: the signal is pending
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [[]] and list(tmp_path.iterdir()) == []


def test_a_signal_after_the_last_write_still_keeps_nothing(tmp_path):
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with atomic_output(tmp_path / "target") as sink:
                sink.copy_from(io.BytesIO(b"z" * 5000))
                signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert list(tmp_path.iterdir()) == []


def test_the_limit_stops_the_copy_and_keeps_nothing(tmp_path):
    with pytest.raises(NnlabError, match="would grow past 100 bytes"):
        with atomic_output(tmp_path / "target", limit=100) as sink:
            sink.copy_from(io.BytesIO(bytes(101)))
    assert list(tmp_path.iterdir()) == []


def test_a_planted_partial_symlink_is_not_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("precious")
    data = tmp_path / "data"
    data.mkdir()
    (data / ".target.partial").symlink_to(outside)
    with atomic_output(data / "target") as sink:
        sink.write(b"new")
    assert outside.read_text() == "precious" and (data / "target").read_bytes() == b"new"
    assert sorted(p.name for p in data.iterdir()) == ["target"]


def test_an_unwritable_place_is_one_clear_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder must be")
    with pytest.raises(NnlabError, match=r"cannot create .*target") as info:
        with atomic_output(blocker / "sub" / "target") as sink:
            sink.write(b"x")
    assert "\n" not in info.value.message and blocker.read_text().startswith("a file")
