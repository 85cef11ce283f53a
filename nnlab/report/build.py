"""Build a report: per question of an assignment, or per run, from the run files alone.

`for_runs` and `for_assignment` gather everything into a `Report` (plain data);
nnlab.report.output.write renders it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

from nnlab import __version__
from nnlab.report.content import Figure, RunSection, run_section
from nnlab.report.deliverables import compose
from nnlab.report.plots import metric_curves
from nnlab.runs.store import Run, RunStore

ASSIGNMENT_COMMAND = "assignment run"


@dataclass
class QuestionSection:
    """One question: what it asks, whether runs answer it, the composed deliverables, its runs."""

    id: str
    summary: str
    state: str
    commands: list[str]
    note: str | None = None
    missing: dict | None = None
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: list[RunSection] = field(default_factory=list)
    shown_elsewhere: list[tuple[str, str]] = field(default_factory=list)  # (run id, question id)


@dataclass
class Report:
    """A whole report: a title, whether its runs were quick smoke runs, and its sections."""

    title: str
    intro: list[str]
    quick: bool = False
    questions: list[QuestionSection] = field(default_factory=list)
    runs: list[RunSection] = field(default_factory=list)
    generated: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))
    version: str = __version__


def full_section(run: Run, first: Sequence[str] = ()) -> RunSection:
    """A run's section with its metric curves; figures named in `first` lead."""
    section = run_section(run)
    for name, png in metric_curves(run.metrics()):
        section.figures.append(Figure(f"{run.id[-6:]}_curve_{name}.png", f"{name} from metrics.jsonl", png))
    rank = {name: i for i, name in enumerate(first)}
    section.figures.sort(key=lambda f: min((i for n, i in rank.items() if f"({n})" in f.caption), default=len(rank)))
    return section


def for_runs(runs: Sequence[Run]) -> Report:
    """A report with one section per run, in the order given."""
    report = Report("nnlab report", [f"{len(runs)} run(s)"])
    report.runs = [full_section(run) for run in runs]
    report.quick = any(_quick_parent(run, None) for run in runs)
    return report


def latest_assignment_run(store: RunStore, name: str) -> Run | None:
    """The newest run of `nnlab assignment run NAME` that has ended (completed or failed)."""
    best = None
    for run in store.iter_runs():
        if run.error or run.command != ASSIGNMENT_COMMAND or run.config.get("assignment") != name:
            continue
        if run.info.get("status") in ("completed", "failed") and (best is None or
                                                                  (run.started or 0) > (best.started or 0)):
            best = run
    return best


def _quick_parent(run: Run, parents: dict[str, Run] | None) -> bool:
    parent = (parents or {}).get(run.parent or "")
    if parent is None and run.parent and "/" not in run.parent and not run.parent.startswith("."):
        try:
            parent = Run.load(run.path.parent / run.parent)
        except (OSError, ValueError):
            return False
    return bool(parent and parent.command == ASSIGNMENT_COMMAND and parent.config.get("quick"))


def for_assignment(name: str, store: RunStore) -> Report:
    """A report per question of assignment `name`, preferring its newest `assignment run`."""
    from nnlab import assignments
    from nnlab.assignments import answers

    assignment = assignments.load(name)
    runs = store.runs()
    batch = latest_assignment_run(store, name)
    children = {r.id for r in runs if batch is not None and r.parent == batch.id}
    found = answers.find(assignment, runs, prefer=children)
    parents = {r.id: r for r in runs if r.command == ASSIGNMENT_COMMAND}
    intro = [assignment.title]
    if batch is not None:
        intro.append(f"from `nnlab assignment run` {batch.id} ({batch.info.get('status')})")
    report = Report(f"{assignment.name}", intro)
    shown: dict[str, str] = {}
    for question in assignment.questions:
        answer = found[question.id]
        specs = answers.specs_of(assignment, question)
        section = QuestionSection(question.id, question.summary, answers.state(answer),
                                  [answers.shell_line(answers.command_line(s)) for s in specs]
                                  or ([question.tool] if question.tool else []),
                                  question.note, question.missing)
        present = [r for r in answer.runs if r is not None]
        section.figures, section.notes = compose(question.id, question.deliverable, present)
        first = (question.deliverable or {}).get("figures", [])
        for run in present:
            report.quick |= _quick_parent(run, parents)
            if run.id in shown:
                section.shown_elsewhere.append((run.id, shown[run.id]))
                continue
            shown[run.id] = question.id
            section.runs.append(full_section(run, first))
        report.questions.append(section)
    return report
