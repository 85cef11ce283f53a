"""Numbers, sizes, times and untrusted strings as text for people (CLI and browser alike).

Everything here returns plain `str`: no markup is ever built from a value, so a config
value such as `x[bold]y` prints literally wherever it is shown.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from nnlab.runs import query
from nnlab.runs.store import Run

# C0 controls but tab and newline, DEL and C1: an escape sequence in a run file must not
# drive the user's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_SHOWN = 2000  # characters of one value shown; a 1 MB string would bury everything else


def plain(value: Any, limit: int = MAX_SHOWN) -> str:
    """`value` as printable text: undecodable bytes as U+FFFD, control characters as `\\xNN`, cut at `limit`."""
    text = value if isinstance(value, str) else str(value)
    # surrogates come from undecodable file names (surrogateescape) or `\\ud800` in JSON
    text = text.encode("utf-8", "replace").decode("utf-8", "replace") if _has_surrogates(text) else text
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def format_value(value: Any) -> str:
    """Numbers to 4 significant digits, everything else as JSON-ish printable text."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        try:
            return plain(json.dumps(value))
        except (ValueError, RecursionError):  # deeper than json can write back
            return "(too deeply nested to show)"
    return plain(value)


def format_started(run: Run) -> str:
    """Start time as `YYYY-MM-DD HH:MM` (local time), or '' if unknown or impossible."""
    ts = run.started
    if not isinstance(ts, (int, float)) or not math.isfinite(ts):
        return ""
    try:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):  # 1e20: no such date
        return ""


def format_duration(seconds: float | None) -> str:
    """A short human duration: `42s`, `3m05s`, `1h02m`; '' if unknown or over a century."""
    if seconds is None or not math.isfinite(seconds) or not 0 <= seconds < 3.2e9:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_key_metric(summary: dict) -> str:
    """`name value` for the run's key metric (see query.key_metric), or ''."""
    found = query.key_metric(summary)
    return f"{plain(found[0])} {format_value(found[1])}" if found else ""


def human_size(n: int) -> str:
    """Bytes as `812 B`, `14.2 kB`, `3.1 MB`."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def describe_row(row: dict) -> str:
    """One metric record as a line: `epoch 2 step 1876 test loss 0.05875`."""
    parts = []
    if row.get("epoch") is not None:
        parts.append(f"epoch {format_value(row['epoch'])}")
    if row.get("step") is not None:
        parts.append(f"step {format_value(row['step'])}")
    if row.get("split"):
        parts.append(format_value(row["split"]))
    parts.append(f"{format_value(row.get('name'))} {format_value(row.get('value'))}")
    return " ".join(parts)
