"""What a report says about one run, read from its files as hostile input.

Every file is opened only if it is a regular file under the cap for its kind; images are
decoded and re-encoded as PNG (so the report embeds only pixels we produced), CSV tables
are cut to a readable size, and strings stay plain text here: the renderers escape them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnlab.runs.query import flatten, status_of
from nnlab.runs.store import Run

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 16_000_000  # about 4000 x 4000: every figure nnlab writes is far smaller
MAX_CSV_BYTES = 1024 * 1024
MAX_TABLE_ROWS = 60
MAX_TABLE_COLS = 30
MAX_CELL_CHARS = 80
MAX_IMAGES_PER_RUN = 24
MAX_METRIC_ROWS = 40

# What each artifact nnlab writes shows, for its caption; other files are captioned by name.
CAPTIONS = {
    "centers.png": "cluster centres at the end of training",
    "initial_centers.png": "cluster centres at the start",
    "lloyd_centers.png": "scikit-learn's Lloyd k-means centres from the same start",
    "network_table.png": "training images of digit i (rows) assigned to centre j (columns)",
    "network_table.csv": "training images of digit i (rows) assigned to centre j (columns), the network",
    "lloyd_table.csv": "the same table for Lloyd's k-means from the same start",
    "lloyd_table.png": "the same table for Lloyd's k-means",
    "eta_curves.png": "squared bias and variance against η; they cross at η*",
    "eta_star.csv": "the balanced learning rate η* per batch size",
    "loss.png": "loss per epoch",
    "reconstructions.png": "test images above their reconstructions",
    "latent.png": "the test set in latent space, coloured by label",
    "mean_latent.png": "the decoded mean latent over the training set (common features)",
    "samples.png": "generated samples",
    "blocks.png": "block sketch: each encoder stage beside the decoder stage that inverts it",
    "pca_basis.png": "the linear decoder's basis beside the top principal components",
    "filters.png": "the first convolution's filters",
    "confusion.png": "test confusion matrix (rows true, columns predicted)",
    "confusion.csv": "test confusion matrix (rows true, columns predicted)",
    "per_class_accuracy.csv": "accuracy per class",
    "per_class.csv": "accuracy per class",
    "misclassified.png": "misclassified test images, true→predicted",
    "last_losses.csv": "the training loss of the last 20 SGD iterations",
    "trials.csv": "every trial of the search, by validation accuracy",
    "surface.png": "the loss surface over the plane of the path's top two principal components, with the path",
    "contour.png": "the same surface as contours",
    "trace.png": "the loss with the visited points, and g, m, v, m̂, v̂, x against t",
    "trace.csv": "every step of the optimizer",
    "escape.png": "Adam just below and above the largest bump it crosses, and GD",
    "bisection.csv": "the bisection on the bump height",
    "ops_check.csv": "each op in numpy against torch",
    "accuracy.png": "accuracy per epoch",
    "generalisation_gap.png": "train − test accuracy against training-set size",
    "accuracy_vs_size.png": "train and test accuracy against training-set size",
    "subset_study.csv": "one child run per training-set size",
}


@dataclass
class Figure:
    """A PNG to embed, with its caption; `name` is its file name beside report.md."""

    name: str
    caption: str
    png: bytes
    width: int = 0
    height: int = 0


@dataclass
class Table:
    """A table from a CSV artifact; `note` says what was cut."""

    caption: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class RunSection:
    """Everything a report shows about one run."""

    id: str
    command: str
    status: str
    argv: str
    facts: list[tuple[str, str]]
    config: list[tuple[str, str]]
    metrics: list[tuple[str, str]]
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def regular_file(path: Path, cap: int) -> bool:
    """True for a regular file (not a link, device or fifo) of at most `cap` bytes."""
    try:
        return path.is_file() and not path.is_symlink() and path.stat().st_size <= cap
    except OSError:
        return False


def png_figure(path: Path, name: str, caption: str) -> Figure | None:
    """The image at `path` decoded and re-encoded as PNG, or None when it is not a readable image."""
    if not regular_file(path, MAX_IMAGE_BYTES):
        return None
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                return None
            img.load()
            rgb = img.convert("RGBA")
            out = io.BytesIO()
            rgb.save(out, format="PNG", optimize=True)
    except Exception:  # noqa: BLE001 - PIL raises many types for a broken file; it is skipped
        return None
    return Figure(name, caption, out.getvalue(), rgb.width, rgb.height)


def _cell(value: str) -> str:
    value = value.replace("\x00", "")
    return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS - 1] + "…"


def csv_table(path: Path, caption: str) -> Table | None:
    """A CSV artifact as a table (header + rows), cut to a readable size; None when unreadable."""
    if not regular_file(path, MAX_CSV_BYTES):
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, csv.Error):
        return None
    if not rows:
        return None
    header, body = rows[0], rows[1:]
    notes = []
    if len(body) > MAX_TABLE_ROWS:
        notes.append(f"first {MAX_TABLE_ROWS} of {len(body)} rows")
        body = body[:MAX_TABLE_ROWS]
    width = max(len(header), *(len(r) for r in body)) if body else len(header)
    if width > MAX_TABLE_COLS:
        notes.append(f"first {MAX_TABLE_COLS} of {width} columns")
        width = MAX_TABLE_COLS
    pad = lambda r: [_cell(c) for c in (r + [""] * width)[:width]]  # noqa: E731
    return Table(caption, pad(header), [pad(r) for r in body], "; ".join(notes))


def format_value(value: Any) -> str:
    """A config or summary value as short text."""
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 120 else text[:119] + "…"
    return _cell(str(value))


def reproduce_line(run: Run) -> str:
    """The command line that made the run: its argv, with the program shown as `nnlab`."""
    argv = run.info.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not argv:
        return f"nnlab {run.command}"
    import shlex

    head = "nnlab" if Path(argv[0]).name in ("nnlab", "__main__.py", "-m") or argv[0].endswith("nnlab") else argv[0]
    return " ".join(shlex.quote(a) for a in [head, *argv[1:]])


def _or_dash(value: Any) -> str:
    return "—" if value is None else format_value(value)


def _git_text(git: Any) -> str:
    """nnlab's own checkout when the run was made: a commit (and whether it had local changes)."""
    if isinstance(git, dict):
        commit = git.get("commit")
        return f"{format_value(commit)}" + (" (with uncommitted changes)" if git.get("dirty") else "") if commit else "unknown"
    return format_value(git) if git else "unknown"


def _facts(run: Run) -> list[tuple[str, str]]:
    info = run.info
    versions = info.get("versions") if isinstance(info.get("versions"), dict) else {}
    facts = [("run", run.id), ("status", status_of(run)), ("seed", _or_dash(info.get("seed"))),
             ("device", _or_dash(info.get("device"))), ("started", _or_dash(info.get("start"))),
             ("git commit", _git_text(info.get("git"))),
             ("versions", ", ".join(f"{k} {format_value(v)}" for k, v in versions.items()) or "unknown")]
    for key in ("dataset", "data_source", "fallback_reason", "rerun_of", "parent", "error"):
        if info.get(key):
            facts.append((key.replace("_", " "), format_value(info[key])))
    return facts


def key_metrics(summary: dict) -> list[tuple[str, str]]:
    """The summary's scalar values (numbers, strings, booleans), flattened, at most MAX_METRIC_ROWS."""
    flat = flatten(summary) if isinstance(summary, dict) else {}
    rows = [(k, format_value(v)) for k, v in flat.items()
            if isinstance(v, (int, float, str, bool)) or (isinstance(v, list) and len(v) <= 12)]
    return rows[:MAX_METRIC_ROWS]


def run_section(run: Run) -> RunSection:
    """Read one run's facts, config, summary, figures and tables (curves are added by the builder)."""
    config = flatten(run.config) if isinstance(run.config, dict) else {}
    section = RunSection(run.id, run.command, status_of(run), reproduce_line(run), _facts(run),
                         [(k, format_value(v)) for k, v in config.items()], key_metrics(run.summary()))
    images = 0
    root = run.path.resolve()
    for path in run.artifacts():
        if not path.resolve().is_relative_to(root):  # a link out of the run: never read
            section.notes.append(f"{path.name}: points outside the run, skipped")
            continue
        caption = CAPTIONS.get(path.name, path.name)
        suffix = path.suffix.lower()
        if suffix in (".png", ".jpg", ".jpeg"):
            if images >= MAX_IMAGES_PER_RUN:
                section.notes.append(f"more images than {MAX_IMAGES_PER_RUN}: {path.name} and later left out")
                break
            figure = png_figure(path, f"{run.id[-6:]}_{path.stem}.png", f"{caption} ({path.name})")
            if figure is None:
                section.notes.append(f"{path.name}: not a readable image under {MAX_IMAGE_BYTES // 2**20} MiB, skipped")
            else:
                section.figures.append(figure)
                images += 1
        elif suffix == ".csv":
            table = csv_table(path, f"{caption} ({path.name})")
            if table is None:
                section.notes.append(f"{path.name}: not a readable CSV under {MAX_CSV_BYTES // 2**20} MiB, skipped")
            else:
                section.tables.append(table)
    return section
