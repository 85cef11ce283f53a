"""`nnlab runs rerun`: rebuild a recorded run's config through the registry, and compare summaries.

The config comes from run.json's `config` (via `experiments.config_from_run`), never from
re-parsing its argv, so a flag renamed since then cannot change what runs. On the same
device and seed nnlab promises identical numbers: `compare` lists every summary value that
differs, timings aside (they are never the same twice).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

from nnlab import __version__
from nnlab.errors import NnlabError
from nnlab.runs.query import flatten
from nnlab.runs.store import Run

# summary keys that measure time or speed: different on every run, so not compared
TIMING = re.compile(r"(^|[._])(time|times|seconds|wall|wall_s|elapsed|duration|speed|throughput)([._]|$)|"
                    r"_s$|per_s(ec(ond)?)?$|images_per|_per_second|seconds$", re.IGNORECASE)


@dataclass
class Plan:
    """What a rerun will run: the command, the rebuilt config, and warnings worth saying first."""

    command: str
    config: Any
    warnings: list[str] = field(default_factory=list)


def plan(run: Run, device: str | None = None) -> Plan:
    """The command and config to re-run `run` with; NnlabError when it cannot be re-run."""
    from dataclasses import replace

    from nnlab import experiments

    if run.error:
        raise NnlabError(f"run {run.id} is unreadable: {run.error}")
    if run.command not in experiments.REGISTRY:
        raise NnlabError(f"`{run.command}` runs cannot be re-run: it is not a registered experiment "
                         f"(registered: {', '.join(sorted(experiments.REGISTRY))})")
    warnings = []
    recorded = run.info.get("versions") if isinstance(run.info.get("versions"), dict) else {}
    if recorded.get("nnlab") not in (None, __version__):
        warnings.append(f"recorded by nnlab {recorded.get('nnlab')}, re-run by nnlab {__version__}: "
                        "a changed default or algorithm can change the numbers")
    try:
        config = experiments.config_from_run(run.command, run.config)
    except NnlabError as exc:
        version = recorded.get("nnlab", "an unknown version")
        raise NnlabError(f"cannot re-run {run.id} (recorded by nnlab {version}): {exc.message}") from None
    if device is not None and hasattr(config, "device"):
        config = replace(config, device=device)
    source = run.info.get("data_source")
    if getattr(config, "data_dir", "") is None and isinstance(source, str) and Path(source).is_dir():
        # the data came from $NNLAB_DATA or the cache then; read the same folder now
        config = replace(config, data_dir=source)
    return Plan(run.command, config, warnings)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare(original: dict, rerun: dict) -> tuple[list[dict], list[str]]:
    """Summary values that differ, key by key: ([{key, original, rerun}], timing keys skipped)."""
    a, b = flatten(original), flatten(rerun)
    differences, skipped = [], []
    for key in list(a) + [k for k in b if k not in a]:
        if TIMING.search(key):
            skipped.append(key)
            continue
        if key not in a or key not in b:
            differences.append({"key": key, "original": a.get(key), "rerun": b.get(key),
                                "note": "only in the " + ("rerun" if key not in a else "original")})
        elif not _same(a[key], b[key]):
            differences.append({"key": key, "original": a[key], "rerun": b[key]})
    return differences, skipped


def fact_differences(original: Run, rerun: Run) -> list[dict]:
    """The dataset actually used, when it differs (a fallback to the embedded digits, say)."""
    before, after = original.info.get("dataset"), rerun.info.get("dataset")
    if before != after:
        return [{"key": "dataset", "original": before, "rerun": after, "note": "the data differ"}]
    return []


def device_note(original: Run, rerun: Run) -> str | None:
    """A line when the two runs ran on different devices (identical numbers are promised only on one)."""
    before, after = original.info.get("device"), rerun.info.get("device")
    if before and after and before != after:
        return f"the original ran on {before}, the rerun on {after}: small float differences are expected"
    return None
