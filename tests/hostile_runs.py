"""Hostile run directories: a Hypothesis strategy and a builder that writes them for real.

Every reader of runs (the `runs` commands, the query/series/images functions, the browser)
must survive whatever a run folder holds: deep nesting, NaN or 1e20 times, wrong types in any
field, 0xff bytes, Rich markup in any string, FIFOs, symlinks to /dev/zero, oversized files,
PNG bombs, folders without permission. Use it as

    @given(st.lists(hostile_runs(), min_size=1, max_size=3))
    def test_x(specs):
        root = fresh_root()
        paths = build_runs(root, specs)

`MARKUP` holds strings that Rich would eat or choke on if a reader rendered them as markup;
a reader must print them literally.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from nnlab.runs.files import RUN_JSON_CAP

MARKUP = ("x[bold]y", "[/]", "[red]red[/red]", "[link=file:///etc]x[/link]", "a[b", "\\[escaped]")
NASTY = MARKUP + ("\x1b[2J\x1b[31mclear", "tab\tand\nnewline", "é漢字", "\udcff", "\ud800", "", " ", "-" * 300)

# Special files: written by `build_runs` as something other than plain bytes.
FIFO = "<fifo>"
DEV_ZERO = "<symlink to /dev/zero>"
FOLDER = "<a folder>"
NO_ACCESS = "<mode 000>"  # unreadable, except for root
SPECIALS = (FIFO, DEV_ZERO, FOLDER, NO_ACCESS)

RUN_ID = "2026-01-01T00-00-00_kmeans_{:06x}"


@dataclass
class HostileRun:
    """What one hostile run folder holds: each file as bytes, a SPECIALS marker, or None (absent)."""

    name: str
    run_json: bytes | str | None
    metrics: bytes | str | None = None
    summary: bytes | str | None = None
    console: bytes | str | None = None
    artifacts: dict[str, bytes | str] = field(default_factory=dict)
    artifacts_mode: str | None = None  # NO_ACCESS makes the artifacts folder unreadable


def dumps(value) -> bytes:
    """JSON as Python writes it, NaN and Infinity included (as a hand-edited file may hold)."""
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


# ---- values ---------------------------------------------------------------------------------

nasty_text = st.sampled_from(NASTY) | st.text(max_size=20)
odd_numbers = st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e20, -1e20, 1e308, 0, -1, 2**70])
any_scalar = nasty_text | odd_numbers | st.booleans() | st.none() | st.integers()
any_value = st.recursive(any_scalar, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=8)
deep = st.integers(min_value=65, max_value=3000).map(lambda n: "[" * n + "]" * n)


@st.composite
def run_info(draw) -> dict:
    """A run.json object: the usual fields, any of them with a hostile value or type."""
    info = {"id": "x", "command": draw(nasty_text), "status": draw(st.sampled_from(
                ["running", "completed", "failed", "interrupted", "[bold]done[/]", "?"])),
            "config": draw(st.dictionaries(nasty_text, any_value, max_size=4)),
            "start_time": draw(odd_numbers | st.floats(0, 2e9)), "end_time": draw(odd_numbers | st.none()),
            "start": draw(any_value), "seed": draw(any_value), "device": draw(any_value),
            "host": draw(any_value), "pid": draw(any_value), "argv": draw(any_value),
            "versions": draw(any_value | st.dictionaries(nasty_text, nasty_text, max_size=3)),
            "git": draw(any_value | st.fixed_dictionaries({"commit": nasty_text, "dirty": any_value})),
            "dataset": draw(any_value), "parent": draw(st.none() | nasty_text), "error": draw(any_value)}
    dropped = draw(st.sets(st.sampled_from(sorted(info)), max_size=4))
    return {k: v for k, v in info.items() if k not in dropped}


def json_file(objects) -> st.SearchStrategy:
    """A run file's content: JSON of `objects`, or a broken or hostile body, or a special file."""
    return st.one_of(
        objects.map(dumps),
        deep.map(str.encode),
        st.sampled_from([b"\xff\xfe{", b'{"command": "km', b"", b"[1, 2]", b"null", b'{"a": "\xff"}',
                         b" " * (RUN_JSON_CAP + 1)]),
        st.sampled_from(SPECIALS),
    )


metric_row = st.fixed_dictionaries({}, optional={
    "step": any_scalar, "epoch": any_scalar, "split": any_value, "name": nasty_text | any_value,
    "value": odd_numbers | any_value, "time": odd_numbers | any_scalar})


@st.composite
def metrics_file(draw) -> bytes | str:
    """metrics.jsonl: hostile rows, deep or garbled lines, 0xff bytes, a cut last line, or a special file."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(SPECIALS))
    lines = draw(st.lists(metric_row.map(dumps) | deep.map(str.encode)
                          | st.sampled_from([b"\xff\xff", b"[1]", b"{", b"null"]), max_size=8))
    tail = draw(st.sampled_from([b"", b'{"name": "loss", "val']))
    return b"\n".join(lines) + (b"\n" if lines else b"") + tail


def png(width: int, height: int, rows: int | None = None) -> bytes:
    """A PNG claiming `width` x `height` grey pixels whose data holds `rows` rows (a bomb when few)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = (b"\x00" + b"\x80" * width) * (height if rows is None else rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


artifact_file = st.one_of(
    st.sampled_from([png(20_000, 20_000, rows=2), png(5000, 5000, rows=1), png(8, 8),
                     png(8, 8)[:40], b"not a png", b"\x89PNG\r\n\x1a\n\xff\xff"]),
    st.sampled_from(SPECIALS),
)
artifact_name = st.sampled_from(["centers.png", "x[bold]y.png", "a/b/c/d.png", "table.csv",
                                 "samples.png", "model.pt"])


@st.composite
def hostile_runs(draw) -> HostileRun:
    """One hostile run folder (see HostileRun); its name is unique within a drawn list."""
    tag = draw(st.integers(0, 0xFFFFFF))
    name = draw(st.sampled_from([RUN_ID.format(tag), f"2026-01-01T00-00-00_x[bold]y_{tag:06x}",
                                 f"2026-01-01T00-00-00_[red]_{tag:06x}", f"bad\udcffname{tag}", f"run {tag} [red]"]))
    return HostileRun(
        name=name,
        run_json=draw(st.none() | json_file(run_info())),
        metrics=draw(st.none() | metrics_file()),
        summary=draw(st.none() | json_file(st.dictionaries(nasty_text, any_value, max_size=4))),
        console=draw(st.none() | st.sampled_from([b"line\n\xff\xfe\n", b"\x1b[31mred\x1b[0m [bold]x[/]\n",
                                                  b"no newline", FIFO, DEV_ZERO])),
        artifacts=draw(st.dictionaries(artifact_name, artifact_file, max_size=3)),
        artifacts_mode=draw(st.none() | st.just(NO_ACCESS)),
    )


# ---- building -------------------------------------------------------------------------------

def write_file(path: Path, content: bytes | str) -> None:
    """Write `content` at `path`: bytes as they are, or the special file SPECIALS names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == FIFO:
        os.mkfifo(path)
    elif content == DEV_ZERO:
        path.symlink_to("/dev/zero")
    elif content == FOLDER:
        path.mkdir()
    elif content == NO_ACCESS:
        path.write_bytes(b'{"command": "secret"}')
        path.chmod(0)
    else:
        path.write_bytes(content)


def build_runs(root: Path, specs: list[HostileRun]) -> list[Path]:
    """Write each spec as a folder under `root` (created); returns their paths.

    Names are made unique (a later duplicate gets a suffix). Call `restore_access(root)`
    before deleting `root` (some folders are made unreadable).
    """
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in specs:
        path = root / spec.name
        while path.exists():
            path = path.with_name(path.name + "0")
        path.mkdir()
        for name, content in (("run.json", spec.run_json), ("metrics.jsonl", spec.metrics),
                              ("summary.json", spec.summary), ("console.log", spec.console)):
            if content is not None:
                write_file(path / name, content)
        artifacts = path / "artifacts"
        artifacts.mkdir()
        for name, content in spec.artifacts.items():
            write_file(artifacts / name, content)
        if spec.artifacts_mode == NO_ACCESS:
            artifacts.chmod(0)
        paths.append(path)
    return paths


def restore_access(root: Path) -> None:
    """Make everything under `root` deletable again (undo NO_ACCESS)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
