"""Atomic, bounded writes: whole or absent, whatever signal or error arrives mid-way."""

from __future__ import annotations

import io
import os
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


def test_two_writers_of_one_file_at_once_both_finish_whole(tmp_path):
    target = tmp_path / "target"
    with atomic_output(target) as outer:  # e.g. four tune workers unpacking one fresh data dir
        outer.write(b"a" * 4000)
        with atomic_output(target) as inner:
            inner.write(b"b" * 4000)
        assert target.read_bytes() == b"b" * 4000
        outer.write(b"a" * 4000)
    assert target.read_bytes() == b"a" * 8000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_a_dead_writers_leftover_is_swept_and_a_live_ones_kept(tmp_path):
    import subprocess
    import sys

    from nnlab.core.data.atomic import HOST

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(done.stdout)  # a process that has ended: its pid is free
    dead = tmp_path / f".target.{HOST}.{dead_pid}-0badf00d.partial"
    live = tmp_path / f".target.{HOST}.{os.getpid()}-feedf00d.partial"  # this process: alive
    other_host = tmp_path / ".target.elsewhere.1-00.partial"  # on a shared filesystem: not ours to judge
    for leftover in (dead, live, other_host):
        leftover.write_bytes(b"half")
    with atomic_output(tmp_path / "target") as sink:
        sink.write(b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["target", live.name, other_host.name])
