"""`nnlab assignment run`: every question's commands, in order, as child runs of one run.

The assignment run (command `assignment run`) records which question each child answers in
its summary. A question whose command fails is recorded as failed and the next one runs;
Ctrl-C stops everything (the runs so far are kept). Configs are built through the registry
(`experiments.config_from_run`), so the data files' values are validated like flags.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nnlab.assignments import Assignment, Question, RunSpec
from nnlab.assignments.answers import command_line, flag_for
from nnlab.errors import NnlabError
from nnlab.runs.store import RunStore, RunWriter

COMMAND = "assignment run"
SHARED_FIELDS = ("data_dir", "device", "seed")  # given once on the command line, passed to every child


@dataclass
class Step:
    """One command of one question, with the argv a user would type for it."""

    question: Question
    spec: RunSpec
    argv: list[str] = field(default_factory=list)


@dataclass
class QuestionResult:
    """How a question went: completed, failed (with the error) or skipped (with why)."""

    status: str
    runs: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def runnable(question: Question) -> bool:
    """A question `assignment run` runs: answered by commands that exist."""
    return question.kind == "run" and bool(question.runs) and not question.missing


def select(assignment: Assignment, only: list[str] | None) -> list[Question]:
    """The questions to run, in order; an unknown id in `only` is an NnlabError naming the valid ones."""
    if only:
        for qid in only:
            assignment.question(qid)
    return [q for q in assignment.questions if runnable(q) and (not only or q.id in only)]


def steps(questions: list[Question], quick: bool) -> list[Step]:
    """Every command of the questions, in order."""
    return [Step(q, spec, command_line(spec, quick)) for q in questions for spec in q.runs]


def _resolve(value: Any, outputs: dict[str, list[str]]) -> Any:
    """`"@Q"` becomes the run folder of question Q's first run; a shipped `docs/` file is found in the checkout."""
    if isinstance(value, list):
        return [_resolve(v, outputs) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        runs = outputs.get(value[1:])
        if not runs:
            raise NnlabError(f"needs the run of question {value[1:]}, which did not complete")
        return runs[0]
    if isinstance(value, str) and value.startswith("docs/") and not Path(value).exists():
        shipped = Path(__file__).resolve().parents[2] / value
        return str(shipped) if shipped.exists() else value
    return value


def build_config(step: Step, quick: bool, shared: dict[str, Any], outputs: dict[str, list[str]]) -> Any:
    """The step's Config: the data file's values (with the smoke-run overrides), the shared flags, inputs resolved.

    The shared flags it applies are added to `step.argv`, so the child's recorded command line is complete.
    """
    from dataclasses import fields

    from nnlab import experiments

    entry = experiments.get(step.spec.command)
    known = {f.name for f in fields(entry.config_class())}
    values = {k: _resolve(v, outputs) for k, v in step.spec.values(quick).items()}
    for name, value in shared.items():
        if name in known and name not in values and value is not None:
            values[name] = value
            step.argv += [flag_for(step.spec.command, name), str(value)]
    return experiments.config_from_run(step.spec.command, values)


def run_assignment(assignment: Assignment, store: RunStore, *, quick: bool = False, only: list[str] | None = None,
                   shared: dict[str, Any] | None = None,
                   recorder_for: Callable[[RunWriter, RunStore], Any],
                   on_step: Callable[[int, int, Step], None] = lambda i, n, s: None,
                   on_result: Callable[[Question, QuestionResult], None] = lambda q, r: None,
                   argv: list[str] | None = None) -> tuple[RunWriter, dict[str, QuestionResult]]:
    """Run the selected questions as children of one `assignment run`; returns it and each question's result."""
    from nnlab import experiments

    questions = select(assignment, only)
    if not questions:
        raise NnlabError(f"nothing to run in {assignment.name}" + (f" among {', '.join(only)}" if only else ""))
    plan = steps(questions, quick)
    shared = dict(shared or {})
    config = {"assignment": assignment.name, "quick": quick, "only": list(only or []),
              **{k: shared.get(k) for k in SHARED_FIELDS}}
    batch = store.create(COMMAND, config, argv=argv, seed=shared.get("seed"))
    results: dict[str, QuestionResult] = {}
    outputs: dict[str, list[str]] = {}
    done: dict[str, str] = {}  # argv line -> run id: a command two questions share runs once
    with batch:
        index = 0
        for question in questions:
            result = QuestionResult("completed")
            start = time.time()
            for step in (s for s in plan if s.question is question):
                on_step(index, len(plan), step)
                index += 1
                if result.status == "failed":
                    continue
                key = " ".join(step.argv)
                if key in done:
                    result.runs.append(done[key])
                    continue
                try:
                    cfg = build_config(step, quick, shared, outputs)
                    writer, _ = experiments.launch(step.spec.command, cfg, recorder_for, store,
                                                   parent=batch.id, argv=step.argv)
                except NnlabError as exc:
                    result.status, result.error = "failed", exc.message
                except Exception as exc:  # noqa: BLE001 - one question's bug must not stop the others
                    result.status, result.error = "failed", f"internal error {type(exc).__name__}: {exc}"
                else:
                    done[key] = writer.id
                    result.runs.append(writer.id)
            result.seconds = round(time.time() - start, 1)
            if result.status == "completed":
                outputs[question.id] = [str(store.root / rid) for rid in result.runs]
            results[question.id] = result
            on_result(question, result)
            batch.set_summary(_summary(results, quick))
    return batch, results


def _summary(results: dict[str, QuestionResult], quick: bool) -> dict[str, Any]:
    return {"quick": quick, "completed": sum(r.status == "completed" for r in results.values()),
            "failed": sum(r.status == "failed" for r in results.values()),
            "seconds": round(sum(r.seconds for r in results.values()), 1),
            "questions": {qid: {"status": r.status, "runs": r.runs, "error": r.error, "seconds": r.seconds}
                          for qid, r in results.items()}}
