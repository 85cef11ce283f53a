"""Reading runs for people: status, key metric, filters, ordering, config diffs, curves.

Shared by `nnlab runs` and `nnlab browse`, so both show the same status, the same key
metric and the same diff. Plain data in, plain data out: no typer, rich or textual here.
"""

from __future__ import annotations

import json
import math
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from nnlab.errors import NnlabError
from nnlab.runs.store import METRICS_FILE, Run

# ---- status and facts ---------------------------------------------------------------------

_HOST = socket.gethostname()


def is_stale(run: Run) -> bool:
    """True for a run marked running whose process is gone (same host, pid dead): it crashed or was killed."""
    if run.error or run.info.get("status") != "running":
        return False
    pid, host = run.info.get("pid"), run.info.get("host")
    if not isinstance(pid, int) or host != _HOST:
        return False  # another machine's run (e.g. rsynced from a server): we cannot tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # exists but belongs to someone else
    return False


def status_of(run: Run) -> str:
    """The status to show: the recorded one, `stale` for a dead running run, `unreadable` for a broken one."""
    return "stale" if is_stale(run) else run.status


def status_note(run: Run) -> str | None:
    """One line explaining an unusual status, or None."""
    if run.error:
        return run.error
    if is_stale(run):
        return (f"marked running, but process {run.info.get('pid')} on {run.info.get('host')} is gone "
                "(crashed or killed); its metrics so far are kept")
    return run.info.get("error")


def format_started(run: Run) -> str:
    """Start time as `YYYY-MM-DD HH:MM` (local time), or '' if unknown."""
    ts = run.started
    if not isinstance(ts, (int, float)):
        return ""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: float | None) -> str:
    """A short human duration: `42s`, `3m05s`, `1h02m`; '' if unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def duration_of(run: Run) -> float | None:
    """Duration in seconds; a stale run has no end, so none is claimed for it."""
    if is_stale(run):
        return None
    try:
        return run.duration
    except TypeError:  # a hand-edited run.json with non-numeric times
        return None


def format_value(value: Any) -> str:
    """Numbers to 4 significant digits, everything else as JSON-ish text."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


# ---- key metric ---------------------------------------------------------------------------

def key_metric(summary: dict) -> tuple[str, Any] | None:
    """The one summary number that best says how a run went, as (name, value).

    Accuracy beats loss (it is what people compare), test beats train, and the network's
    figure beats a baseline's; failing all that, the first number in the summary.
    """
    numbers = {k: v for k, v in summary.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not numbers:
        return None

    def rank(name: str) -> tuple[int, int, int]:
        low = name.lower()
        kind = 0 if "acc" in low else 1 if "loss" in low else 2
        split = 0 if low.startswith(("test", "val")) else 1 if "train" not in low else 2
        family = 1 if low.startswith(("lloyd", "baseline")) else 0
        return kind, family, split

    best = min(numbers, key=lambda k: (rank(k), list(numbers).index(k)))
    return best, numbers[best]


def format_key_metric(summary: dict) -> str:
    """`name value` for the key metric, or ''."""
    found = key_metric(summary)
    return f"{found[0]} {format_value(found[1])}" if found else ""


# ---- flattening and diff ------------------------------------------------------------------

def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts to one level with dotted keys (`versions.torch`); lists stay values."""
    if not isinstance(obj, dict):
        return {prefix: obj} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


# Facts that differ between any two runs and so would drown the real differences.
_NOISE = {"id", "argv", "start", "start_time", "end", "end_time", "pid", "config", "parent",
          "error", "status"}

MISSING = object()


def comparable(run: Run, summary: dict | None = None) -> dict[str, Any]:
    """What a diff compares: command, config.*, summary.* and the run's other facts."""
    flat = {"command": run.command}
    flat.update(flatten(run.config, "config"))
    if summary is not None:
        flat.update(flatten(summary, "summary"))
    flat.update(flatten({k: v for k, v in run.info.items() if k not in _NOISE and k != "command"}))
    return flat


def diff(rows: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Keys whose values are not all equal across `rows`, each with its values (MISSING where absent)."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    out = []
    for key in keys:
        values = [row.get(key, MISSING) for row in rows]
        if any(v is MISSING or v != values[0] for v in values[1:]) or values[0] is MISSING:
            out.append((key, values))
    return out


def diff_runs(runs: Sequence[Run], with_summary: bool = True) -> list[tuple[str, list[Any]]]:
    """Differing keys between runs' configs (and summaries); raises NnlabError for an unreadable run."""
    for run in runs:
        if run.error:
            raise NnlabError(f"run {run.id} is unreadable: {run.error}")
    return diff([comparable(r, r.summary() if with_summary else None) for r in runs])


# ---- filtering and ordering ---------------------------------------------------------------

_FIELDS = ("command", "status", "id")


def parse_filter(text: str) -> Callable[[Run], bool]:
    """A predicate from filter text: `command:kmeans status:failed lr:4.5 free words`.

    Every term must match (AND). `field:value` matches the command, status or id, else a
    config key, by substring; a bare word matches id, command, status or any config value.
    """
    terms = text.lower().split()
    if not terms:
        return lambda run: True

    def match(run: Run) -> bool:
        status = status_of(run)
        config = {k.lower(): str(v).lower() for k, v in flatten(run.config).items()}
        haystack = " ".join([run.id.lower(), run.command.lower(), status, *config.values(),
                             (run.error or "").lower()])
        for term in terms:
            key, sep, want = term.partition(":")
            if sep and key:
                if key in _FIELDS:
                    have = {"command": run.command, "status": status, "id": run.id}[key].lower()
                    if want not in have:
                        return False
                else:
                    hits = [v for k, v in config.items() if k == key or k.endswith("." + key)]
                    if not any(want in v for v in hits):
                        return False
            elif term not in haystack:
                return False
        return True

    return match


def select(runs: Iterable[Run], *, command: str | None = None, status: str | None = None,
           text: str = "") -> list[Run]:
    """Runs matching an exact command (or its group, `kmeans` matches `kmeans eta`), a status and filter text."""
    pred = parse_filter(text)
    out = []
    for run in runs:
        if command and run.command != command and not run.command.startswith(command + " "):
            continue
        if status and status_of(run) != status:
            continue
        if pred(run):
            out.append(run)
    return out


def tree_order(runs: Sequence[Run], key: Callable[[Run], Any] | None = None,
               reverse: bool = False) -> list[tuple[Run, int]]:
    """Runs as (run, depth): each child right under its parent, siblings sorted by `key`.

    A child whose parent is not among `runs` (filtered out or deleted) is shown at the top level.
    """
    key = key or (lambda r: r.id)
    ids = {r.id for r in runs}
    children: dict[str, list[Run]] = {}
    roots = []
    for run in runs:
        if run.parent and run.parent in ids and run.parent != run.id:
            children.setdefault(run.parent, []).append(run)
        else:
            roots.append(run)
    out: list[tuple[Run, int]] = []
    seen: set[str] = set()

    def visit(run: Run, depth: int) -> None:
        if run.id in seen:  # a cycle in hand-edited files must not hang us
            return
        seen.add(run.id)
        out.append((run, depth))
        for child in sort_runs(children.get(run.id, []), key, reverse):
            visit(child, depth + 1)

    for root in sort_runs(roots, key, reverse):
        visit(root, 0)
    return out


def sort_runs(runs: Sequence[Run], key: Callable[[Run], Any], reverse: bool = False) -> list[Run]:
    """Sort with None/unknown values always last, whatever the direction."""
    known = [(key(r), r) for r in runs]
    have = [(k, r) for k, r in known if k is not None and k != ""]
    missing = [r for k, r in known if k is None or k == ""]
    try:
        have.sort(key=lambda kr: kr[0], reverse=reverse)
    except TypeError:  # mixed types: compare as text
        have.sort(key=lambda kr: str(kr[0]), reverse=reverse)
    return [r for _, r in have] + missing


def run_record(run: Run, summary: dict | None = None) -> dict[str, Any]:
    """One run as a flat JSON-able record for `runs list --json/--csv`."""
    found = key_metric(summary or {}) if summary is not None else None
    return {
        "id": run.id, "command": run.command, "status": status_of(run),
        "started": run.info.get("start") or "", "duration_s": duration_of(run),
        "key_metric": found[0] if found else None, "key_value": found[1] if found else None,
        "parent": run.parent, "path": str(run.path), "error": status_note(run),
    }


# ---- metrics ------------------------------------------------------------------------------

def metric_names(rows: Iterable[dict]) -> list[str]:
    """Metric names in first-seen order, `loss` first when present."""
    names: list[str] = []
    for row in rows:
        name = row.get("name")
        if isinstance(name, str) and name not in names:
            names.append(name)
    return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def curves(rows: Iterable[dict], name: str, by: str = "epoch") -> dict[str, tuple[list[float], list[float]]]:
    """The series of metric `name` per split, as {split: (xs, ys)}.

    by="step": every record against its step. by="epoch": one point per epoch, the last
    record of that epoch (the epoch mean the trainer writes at its end).
    """
    series: dict[str, dict[float, float]] = {}
    for row in rows:
        if row.get("name") != name:
            continue
        x, y = row.get(by), row.get("value")
        if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or not math.isfinite(y):
            continue
        series.setdefault(row.get("split") or "all", {})[x] = y  # later records win: epoch means
    return {split: (sorted(points), [points[x] for x in sorted(points)]) for split, points in series.items()}


def export_rows(run: Run, rows: Iterable[dict]) -> Iterable[dict[str, Any]]:
    """Metric records in long format, one per value, tagged with the run."""
    for row in rows:
        yield {"run": run.id, "command": run.command, "step": row.get("step"), "epoch": row.get("epoch"),
               "split": row.get("split"), "name": row.get("name"), "value": row.get("value"),
               "time": row.get("time")}


EXPORT_FIELDS = ("run", "command", "step", "epoch", "split", "name", "value", "time")


@dataclass
class MetricsFollower:
    """Reads a run's metrics.jsonl incrementally: each poll returns only the new complete lines.

    Used by `runs tail` and by the browser's live curves, so a run that is still writing
    costs one small read per poll instead of re-reading the whole file.
    """

    path: Path
    offset: int = 0

    @classmethod
    def for_run(cls, run: Run) -> "MetricsFollower":
        """A follower at the start of `run`'s metrics file."""
        return cls(run.path / METRICS_FILE)

    def poll(self) -> list[dict]:
        """New records since the last poll; a last line without its newline waits for the next poll."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        rows = []
        for line in chunk[:end].splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a garbled line: skip it, as the store's reader does
            if isinstance(row, dict):
                rows.append(row)
        return rows


def describe_row(row: dict) -> str:
    """One metric record as a line: `epoch 2 step 1876 test loss 0.05875`."""
    parts = []
    if row.get("epoch") is not None:
        parts.append(f"epoch {row['epoch']}")
    if row.get("step") is not None:
        parts.append(f"step {row['step']}")
    if row.get("split"):
        parts.append(str(row["split"]))
    parts.append(f"{row.get('name')} {format_value(row.get('value'))}")
    return " ".join(parts)


# ---- artifacts ----------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def image_artifacts(run: Run) -> list[Path]:
    """The run's image artifacts, the main figures (centres, reconstructions, samples) first."""
    images = [p for p in run.artifacts() if p.suffix.lower() in IMAGE_SUFFIXES]
    first = ("centers", "centres", "recon", "sample", "filter")
    return sorted(images, key=lambda p: (not p.stem.lower().startswith(first), p.name))


def read_image(path: Path, trim: bool = True):
    """A PNG as a float (H, W, 3) array in [0, 1], its uniform margins cut (they waste terminal cells).

    Raises NnlabError when the file is not a readable image.
    """
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGBA")
            # transparent pixels become white, as they look in an image viewer
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            pixels = np.asarray(Image.alpha_composite(background, img).convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError) as exc:
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
        # the height may run over the screen by half: scrolling a little beats tiny tiles
        return max(-(-width // max(cols, 1)), -(-(lines * height + (lines - 1) * gap) // max(3 * rows, 1)))

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


def human_size(n: int) -> str:
    """Bytes as `812 B`, `14.2 kB`, `3.1 MB`."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
