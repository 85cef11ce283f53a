"""report.md: the same report as Markdown, its figures as PNG files in figures/ beside it.

Text from runs is HTML-escaped (a Markdown viewer passes raw HTML through) and table cells
have their pipes escaped; commands sit in code blocks.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from nnlab.report.build import QuestionSection, Report
from nnlab.report.content import Figure, RunSection, Table
from nnlab.report.html import STATE_TEXT


def _text(value: str) -> str:
    return escape(value).replace("|", "\\|").replace("\n", " ")


def _code(line: str) -> list[str]:
    return ["```", line.replace("```", "'''"), "```"]


def _figure(fig: Figure, folder: Path) -> list[str]:
    (folder / fig.name).write_bytes(fig.png)
    return [f"![{_text(fig.caption)}]({folder.name}/{fig.name})", "", f"*{_text(fig.caption)}*", ""]


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_text(h) or " " for h in header) + " |",
             "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_text(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _table(table: Table) -> list[str]:
    note = f" ({_text(table.note)})" if table.note else ""
    return [f"*{_text(table.caption)}*{note}", ""] + _rows(table.header, table.rows)


def _run(run: RunSection, folder: Path, level: str = "###") -> list[str]:
    lines = [f"{level} Run `{run.id}` ({_text(run.command)}, {_text(run.status)})", "", "Reproduce:", ""]
    lines += _code(run.argv) + [""]
    lines += _rows(["fact", "value"], [list(kv) for kv in run.facts])
    if run.metrics:
        lines += ["Key metrics (summary.json):", ""] + _rows(["metric", "value"], [list(kv) for kv in run.metrics])
    if run.config:
        lines += ["Config:", ""] + _rows(["field", "value"], [list(kv) for kv in run.config])
    for fig in run.figures:
        lines += _figure(fig, folder)
    for table in run.tables:
        lines += _table(table)
    lines += [f"_{_text(n)}_" for n in run.notes]
    return lines + [""]


def _question(q: QuestionSection, folder: Path) -> list[str]:
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
            lines += _figure(fig, folder)
    lines += [f"_{_text(n)}_" for n in q.notes]
    for run in q.runs:
        lines += _run(run, folder)
    lines += [f"Run `{rid}` is shown under {_text(other)}." for rid, other in q.shown_elsewhere]
    return lines + [""]


def render_markdown(report: Report, folder: Path) -> str:
    """The report as Markdown; writes its figures into `folder`."""
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
            lines += _question(q, folder)
    for run in report.runs:
        lines += _run(run, folder, "##")
    return "\n".join(lines) + "\n"
