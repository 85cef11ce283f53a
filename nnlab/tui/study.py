"""The Trials tab: a sweep's child runs (an `mlp tune` study's trials) as a table, with a best-so-far curve.

Read from the child runs' own files (run.json config, summary.json), so it works for a
study run on another machine and rsynced here, with no Optuna dashboard or database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from nnlab.runs import query
from nnlab.runs.store import Run
from nnlab.tui.tables import NumberTable, as_number
from nnlab.tui.widgets import CurvePlot

SCORE_KEYS = ("val_acc", "val_accuracy", "accuracy", "test_accuracy")  # what a trial is judged on, in order
HIDDEN = ("trial", "study")
WIDE = 110  # columns from which the curve goes beside the table rather than under it  # config keys every trial has, shown in their own column or not at all


@dataclass
class Study:
    """Trials of a sweep as rows, the searched parameters as columns, and the best score after each trial."""

    params: list[str] = field(default_factory=list)
    score: str = "val_acc"
    rows: list[list[Any]] = field(default_factory=list)
    best: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))

    @property
    def header(self) -> list[str]:
        """Column names: trial, the score, the state, the parameters, the run id."""
        return ["trial", self.score, "state", *self.params, "run"]


def trial_state(run: Run, summary: dict, score: float | None) -> str:
    """complete, pruned, diverged, running, or the run's own status (failed, interrupted, stale)."""
    status = query.status_of(run)
    if status == "running":
        return "running"
    if summary.get("pruned") or status == "pruned":
        return "pruned"
    loss = as_number(summary.get("val_loss"))
    if status == "completed":
        diverged = score is None or (loss is not None and not math.isfinite(loss)) or not math.isfinite(score)
        return "diverged" if diverged else "complete"
    return status


def searched(parent: Run, children: list[Run]) -> list[str]:
    """The parameters the sweep searched: config lists of the parent that its trials hold one value of,
    else the config keys on which the trials differ."""
    keys = [k for k, v in parent.config.items() if isinstance(v, list) and len(v) > 1
            and any(k in c.config for c in children)]
    if not keys and len(children) > 1:
        keys = [k.split(".", 1)[1] for k, _ in query.diff([query.flatten(c.config, "config") for c in children])]
    return [k for k in keys if k not in HIDDEN]


def read_study(parent: Run, children: list[Run]) -> Study:
    """The study of `parent` from its children's files (summaries are read here: call from a worker)."""
    trials = []
    for child in children:
        summary = child.summary() if not child.error else {}
        trial = child.config.get("trial", summary.get("trial"))
        trials.append((as_number(trial), child, summary))
    trials.sort(key=lambda t: (t[0] is None, t[0] if t[0] is not None else 0.0, t[1].id))
    summaries = [s for _, _, s in trials]
    score_key = next((k for k in SCORE_KEYS if any(k in s for s in summaries)), "val_acc")
    study = Study(params=searched(parent, children), score=score_key)
    best = -math.inf
    for i, (number, child, summary) in enumerate(trials):
        score = as_number(summary.get(score_key))
        state = trial_state(child, summary, score)
        trial = int(number) if number is not None and math.isfinite(number) else i
        study.rows.append([trial, score, state, *(child.config.get(k) for k in study.params), child.id[-6:]])
        if state == "complete" and score is not None:
            best = max(best, score)
        if best > -math.inf:
            study.best[0].append(float(trial))
            study.best[1].append(best)
    return study


class StudyPane(Horizontal):
    """The trials table and, beside it (below it when narrow), the best score so far after each trial."""

    def on_resize(self) -> None:
        self.styles.layout = "horizontal" if self.size.width >= WIDE else "vertical"

    def compose(self) -> ComposeResult:
        yield NumberTable(id="trials-table")
        yield CurvePlot(id="best-plot")

    def show(self, study: Study | None) -> None:
        """Draw a study (None: this run has no child runs)."""
        table = self.query_one("#trials-table", NumberTable)
        plot = self.query_one("#best-plot", CurvePlot)
        if study is None or not study.rows:
            table.fill(["trial"], [])
            plot.empty_message = "this run has no trials (child runs)"
            plot.show({})
            return
        keep = table.cursor_coordinate
        table.fill(study.header, study.rows)
        table.move_cursor(row=keep.row, column=keep.column)
        plot.empty_message = "no complete trial yet"
        plot.show({f"best {study.score}": study.best} if study.best[0] else {},
                  title=f"best {study.score} so far", xlabel="trial")
