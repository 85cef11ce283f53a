"""One run for people, as Rich renderables: its title line, status colours, facts, config,
summary, last metric values and artifacts. `nnlab runs show` prints it; the browser's
overview tab shows the same thing.

Every value from a run's files goes through Text (never markup), so it shows literally.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from nnlab.runs import query
from nnlab.runs.store import ARTIFACTS_DIR, Run
from nnlab.view.format import format_duration, format_started, format_value, human_size, plain

# The one definition of the status colours, for the CLI and the browser alike.
STATUS_STYLE = {"completed": "green", "running": "cyan", "failed": "red", "interrupted": "yellow",
                "stale": "magenta", "unreadable": "bold red"}


def status_text(status: str) -> Text:
    """The status word in its colour."""
    return Text(plain(status), style=STATUS_STYLE.get(status, ""))


def run_title(run: Run, prefix: str = "") -> Text:
    """`<prefix><id>  <command>  <status>  <duration>` on one line."""
    status = query.status_of(run)
    title = Text.assemble((f"{prefix}{plain(run.id)}", "bold"), "  ")
    if not run.error:
        title.append(plain(run.command) + "  ")
    title.append_text(status_text(status))
    duration = format_duration(query.duration_of(run))
    if duration:
        title.append("  " + duration)
    return title


def kv_table(title: str, items: list[tuple[str, object]]) -> Table:
    """A two-column key/value table with a bold title; keys and values shown literally."""
    table = Table(title=plain(title), title_justify="left", title_style="bold", box=None, show_header=False,
                  pad_edge=False, expand=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in items:
        table.add_row(Text(plain(key)), Text(format_value(value)))
    return table


def _versions(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(f"{plain(k)} {format_value(v)}" for k, v in value.items())
    return format_value(value) if value else ""


def _git(value: object) -> str:
    """`abc123def456` or `abc123def456 (dirty)`; anything else shown as it is."""
    if isinstance(value, dict) and isinstance(value.get("commit"), str):
        return plain(value["commit"][:12]) + (" (dirty)" if value.get("dirty") is True else "")
    if isinstance(value, str):
        return plain(value[:12])
    return format_value(value) if value else ""


def run_facts(run: Run) -> list[tuple[str, object]]:
    """The run's facts that are known: start, duration, parent, seed, device, dataset, host, git, versions."""
    facts = [("started", format_started(run)), ("duration", format_duration(query.duration_of(run))),
             ("parent", run.parent or ""), ("seed", run.info.get("seed")), ("device", run.info.get("device")),
             ("dataset", run.info.get("dataset")), ("host", run.info.get("host")),
             ("git", _git(run.info.get("git"))), ("versions", _versions(run.info.get("versions")))]
    return [(k, v) for k, v in facts if v not in (None, "")]


def metrics_table(rows: list[dict]) -> Table:
    """Per split and metric: how many records, the last value, and its epoch and step."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        key = (format_value(row.get("split") or ""), format_value(row.get("name")))
        groups.setdefault(key, []).append(row)
    table = Table(title=f"metrics (last value, {len(rows)} records)", title_justify="left", title_style="bold",
                  box=None, header_style="bold", pad_edge=False)
    for col in ("split", "name", "records", "last", "epoch", "step"):
        table.add_column(col, justify="left" if col in ("split", "name") else "right")
    for (split, name), group in groups.items():
        tail = group[-1]
        table.add_row(Text(split), Text(name), str(len(group)), Text(format_value(tail.get("value"))),
                      Text("" if tail.get("epoch") is None else format_value(tail.get("epoch"))),
                      Text("" if tail.get("step") is None else format_value(tail.get("step"))))
    return table


def _size(path: Path) -> str:
    try:
        return human_size(path.stat().st_size)
    except OSError:
        return "?"


def artifacts_table(run: Run, artifacts: list[Path]) -> Table:
    """Artifact files (relative to artifacts/) and their sizes."""
    table = Table(title="artifacts", title_justify="left", title_style="bold", box=None, header_style="bold",
                  pad_edge=False)
    table.add_column("file")
    table.add_column("size", justify="right")
    for path in artifacts:
        table.add_row(Text(plain(path.relative_to(run.path / ARTIFACTS_DIR))), _size(path))
    return table


def _files(run: Run) -> str:
    try:
        return ", ".join(sorted(plain(p.name) for p in run.path.iterdir())) or "none"
    except OSError as exc:
        return f"cannot list the folder: {plain(exc.strerror or exc)}"


def run_overview(run: Run, summary: dict, artifacts: list[Path], rows: list[dict] | None) -> RenderableType:
    """Note, path, facts, config, summary, last metric values and artifacts of a run.

    An unreadable run shows why and which files its folder holds.
    """
    status = query.status_of(run)
    parts: list[RenderableType] = []
    note = query.status_note(run)
    if note:
        parts.append(Text(plain(note), style=STATUS_STYLE.get(status) or "yellow"))
    parts.append(Text(plain(run.path), style="dim"))
    if run.error:
        parts.append(Text(f"files: {_files(run)}"))
        return Group(*parts)
    facts = run_facts(run)
    sections: list[RenderableType] = [kv_table("run", facts)] if facts else []
    sections.append(kv_table("config", list(query.flatten(run.config).items())))
    if summary:
        sections.append(kv_table("summary", list(query.flatten(summary).items())))
    if rows:
        sections.append(metrics_table(rows))
    if artifacts:
        sections.append(artifacts_table(run, artifacts))
    for section in sections:
        parts.extend([Text(""), section])
    return Group(*parts)


def diff_table(labels: list[str], rows: list[tuple[str, list]]) -> Table:
    """Differing keys (see query.diff_runs) as a table: one row per key, one column per run label."""
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("key", style="bold", overflow="fold")
    for label in labels:
        table.add_column(Text(plain(label)), overflow="fold")
    for key, values in rows:
        table.add_row(Text(plain(key)), *(Text("-", style="dim") if v is query.MISSING else Text(format_value(v))
                                          for v in values))
    return table
