"""Reading runs for people: status, key metric, filters, ordering, config diffs, curves.

Shared by `nnlab runs` and `nnlab browse`, so both show the same status, the same key
metric and the same diff. Plain data in, plain data out: no typer, rich or textual here.
"""

from __future__ import annotations

import fnmatch
import math
from operator import itemgetter
from typing import Any, Callable, Iterable, Sequence

from nnlab.errors import NnlabError
from nnlab.runs.store import Run

# ---- status and facts ---------------------------------------------------------------------

def is_stale(run: Run) -> bool:
    """True for a run marked running whose process is gone (same host, pid dead): it crashed or was killed."""
    return run.process_state() == "gone"


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
    error = run.info.get("error")
    return None if error is None else str(error)


def duration_of(run: Run) -> float | None:
    """Duration in seconds; a stale run has no end, so none is claimed for it."""
    if is_stale(run):
        return None
    try:
        seconds = run.duration
    except TypeError:  # a hand-edited run.json with non-numeric times
        return None
    return seconds if seconds is None or math.isfinite(seconds) else None


# ---- key metric ---------------------------------------------------------------------------

def key_metric(summary: dict) -> tuple[str, Any] | None:
    """The one summary number that best says how a run went, as (name, value).

    Accuracy beats loss (it is what people compare), test beats train, and the network's
    figure beats a baseline's; failing all that, the first number in the summary.
    """
    numbers = {k: v for k, v in summary.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if len(numbers) < 2:  # a key metric as the index keeps it: nothing to rank
        return next(iter(numbers.items()), None)

    def rank(name: str) -> tuple[int, int, int]:
        low = name.lower()
        kind = 0 if "acc" in low else 1 if "loss" in low else 2
        split = 0 if low.startswith(("test", "val")) else 1 if "train" not in low else 2
        family = 1 if low.startswith(("lloyd", "baseline")) else 0
        return kind, family, split

    best = min(numbers, key=lambda k: (rank(k), list(numbers).index(k)))
    return best, numbers[best]


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


def matches(want: str, value: Any) -> bool:
    """Does a filter's `want` match `value` exactly (case-insensitive)? A number also matches
    its value (`lr:0.10` matches 0.1), and `*`, `?` or `[...]` make `want` a glob (`ae*`)."""
    have = str(value).lower()
    want = want.lower()
    if any(c in want for c in "*?["):
        return fnmatch.fnmatchcase(have, want)
    if have == want:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(want) == value
        except ValueError:
            return False
    return False


def parse_filter(text: str) -> Callable[[Run], bool]:
    """A predicate from filter text: `command:kmeans status:failed lr:4.5 free words`.

    Every term must match (AND). `field:value` matches the command, status or id, else a
    config key (`latent:2` does not match 32), exactly or by glob (`command:ae*`); a bare
    word is a search: it matches any part of the id, command, status or a config value.
    """
    terms = text.lower().split()
    if not terms:
        return lambda run: True

    def match(run: Run) -> bool:
        status = status_of(run)
        config: dict | None = None  # made for the first term that looks at it
        haystack = None
        for term in terms:
            key, sep, want = term.partition(":")
            if sep and key:
                if key in _FIELDS:
                    if not matches(want, {"command": run.command, "status": status, "id": run.id}[key]):
                        return False
                    continue
                if config is None:
                    config = {k.lower(): v for k, v in flatten(run.config).items()}
                hits = [v for k, v in config.items() if k == key or k.endswith("." + key)]
                if not any(matches(want, v) for v in hits):
                    return False
            else:
                if haystack is None:
                    haystack = " ".join([run.id.lower(), run.command.lower(), status,
                                         *(str(v).lower() for v in flatten(run.config).values()),
                                         (run.error or "").lower()])
                if term not in haystack:
                    return False
        return True

    return match


def select(runs: Iterable[Run], *, command: str | None = None, status: str | None = None,
           text: str = "") -> list[Run]:
    """Runs matching a command exactly (`ae` is not `ae cluster`; `ae*` is a glob for both),
    a status, and filter text (see parse_filter)."""
    pred = parse_filter(text)
    out = []
    for run in runs:
        if command and not matches(command, run.command):
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
    One pass to group, one sort per family and a stack instead of recursion: O(n log n) for the
    sorts and O(n) for the rest, with no depth limit; a run without children costs one append.
    """
    key = key or _run_id
    ids = {r.id for r in runs}
    children: dict[str, list[Run]] = {}
    roots = []
    for run in runs:
        parent = run.parent
        if parent and parent in ids and parent != run.id:
            children.setdefault(parent, []).append(run)
        else:
            roots.append(run)
    out: list[tuple[Run, int]] = []

    def descend(top: Run, seen: set[str] | None) -> None:
        # every run has one parent, so from a root each is reached once; `seen` guards the rest
        stack = [(top, 0)]
        while stack:
            run, depth = stack.pop()
            if seen is not None:
                if run.id in seen:  # a cycle in hand-edited files must not hang us
                    continue
                seen.add(run.id)
            out.append((run, depth))
            family = children.get(run.id)
            if family:
                stack.extend((child, depth + 1) for child in reversed(sort_runs(family, key, reverse)))

    for root in sort_runs(roots, key, reverse):
        if children and root.id in children:
            descend(root, None)
        else:
            out.append((root, 0))
    if len(out) < len(runs):  # runs whose parents form a cycle (hand-edited files) have no root: list them anyway
        seen = {run.id for run, _ in out}
        for run in sort_runs([r for r in runs if r.id not in seen], key, reverse):
            descend(run, seen)
    return out


def _run_id(run: Run) -> str:
    return run.id


def sort_runs(runs: Sequence[Run], key: Callable[[Run], Any], reverse: bool = False) -> list[Run]:
    """Sort with None/unknown values always last, whatever the direction."""
    have, missing = [], []
    for run in runs:
        value = key(run)
        if value is None or value == "":
            missing.append(run)
        else:
            have.append((value, run))
    try:
        have.sort(key=itemgetter(0), reverse=reverse)
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
        "parent": run.parent, "path": run.location, "error": status_note(run),
    }
