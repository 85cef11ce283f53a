"""report.md: the same report as Markdown, its figures as PNG files in figures/ beside it.

Text from runs is HTML-escaped (a Markdown viewer passes raw HTML through) and table cells
have their pipes escaped; commands sit in code blocks.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from nnlab.report.build import QuestionSection, Report
from nnlab.report.content import Figure, RunSection, Table
from nnlab.report.html import STATE_TEXT


def _text(value: str) -> str:
    return escape(value).replace("|", "\\|").replace("\n", " ")


def _code(line: str) -> list[str]:
    return ["```", line.replace("```", "'''"), "```"]


def _file_name(fig: Figure, used: set[str]) -> str:
    """A name safe in a path and a Markdown link (run ids and artifact names are hostile), unique in this report."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(fig.name).stem)[:80] or "figure"
    name, n = f"{stem}.png", 1
    while name in used:
        n += 1
        name = f"{stem}_{n}.png"
    used.add(name)
    return name


def _figure(fig: Figure, folder: Path, used: set[str]) -> list[str]:
    name = _file_name(fig, used)
    target = folder / name
    if target.is_symlink():  # never write through a link planted in the output folder
        target.unlink()
    target.write_bytes(fig.png)
    return [f"![{_text(fig.caption)}]({folder.name}/{name})", "", f"*{_text(fig.caption)}*", ""]


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_text(h) or " " for h in header) + " |",
             "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_text(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _table(table: Table) -> list[str]:
    note = f" ({_text(table.note)})" if table.note else ""
    return [f"*{_text(table.caption)}*{note}", ""] + _rows(table.header, table.rows)


def _run(run: RunSection, folder: Path, used: set[str], level: str = "###") -> list[str]:
    lines = [f"{level} Run `{run.id}` ({_text(run.command)}, {_text(run.status)})", "", "Reproduce:", ""]
    lines += _code(run.argv) + [""]
    lines += _rows(["fact", "value"], [list(kv) for kv in run.facts])
    if run.metrics:
        lines += ["Key metrics (summary.json):", ""] + _rows(["metric", "value"], [list(kv) for kv in run.metrics])
    if run.config:
        lines += ["Config:", ""] + _rows(["field", "value"], [list(kv) for kv in run.config])
    for fig in run.figures:
        lines += _figure(fig, folder, used)
    for table in run.tables:
        lines += _table(table)
    lines += [f"_{_text(n)}_" for n in run.notes]
    return lines + [""]


def _question(q: QuestionSection, folder: Path, used: set[str]) -> list[str]:
    lines = [f"## {_text(q.id)} — {STATE_TEXT.get(q.state, q.state)}", "", _text(q.summary), ""]
    if q.note:
        lines += [f"_{_text(q.note)}_", ""]
    if q.state == "missing" and q.missing:
        lines += [f"**Missing.** nnlab has no command for this yet ({_text(q.missing.get('why', ''))}); it will be:", ""]
        lines += _code(q.missing.get("command", "")) + [""]
    elif q.state in ("open", "partial"):
        lines += ["**Missing.** Run:", ""]
        for command in q.commands:
            lines += _code(command)
        lines.append("")
    elif q.commands:
        lines += ["Command:", ""]
        for command in q.commands:
            lines += _code(command)
        lines.append("")
    if q.figures:
        lines += ["### Deliverable", ""]
        for fig in q.figures:
            lines += _figure(fig, folder, used)
    lines += [f"_{_text(n)}_" for n in q.notes]
    for run in q.runs:
        lines += _run(run, folder, used)
    lines += [f"Run `{rid}` is shown under {_text(other)}." for rid, other in q.shown_elsewhere]
    return lines + [""]


def render_markdown(report: Report, folder: Path) -> str:
    """The report as Markdown; writes its figures into `folder`."""
    used: set[str] = set()
    lines = [f"# {_text(report.title)}", ""]
    lines += [_text(line) for line in report.intro] + [""]
    lines += [f"Built {report.generated} by nnlab {report.version} from the run files (nothing retrained).", ""]
    if report.quick:
        lines += ["> **Quick run.** These runs were made with `--quick`: training was cut to a smoke run "
                  "(about one epoch), so the numbers only show that every command works. They are not the "
                  "assignment's answers; run it without `--quick` for those.", ""]
    if report.questions:
        done = sum(q.state == "answered" for q in report.questions)
        lines += [f"**{done} of {len(report.questions)}** questions answered by runs.", ""]
        lines += [f"- {_text(q.id)}: {STATE_TEXT.get(q.state, q.state)} — {_text(q.summary)}" for q in report.questions]
        lines.append("")
        for q in report.questions:
            lines += _question(q, folder, used)
    for run in report.runs:
        lines += _run(run, folder, used, "##")
    return "\n".join(lines) + "\n"
