"""Which recorded runs answer a question, and the command line that makes one.

A run answers a command of a question when it completed, has the same command, and its
recorded config holds the question's values (the smoke-run overrides and `"@Q"` inputs
aside, so a quick run still counts, and so does a run the user started by hand).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from nnlab.assignments import Assignment, Question, RunSpec
from nnlab.runs.query import status_of
from nnlab.runs.store import Run


def flag_for(command: str, name: str) -> str:
    """The flag of config field `name`: the registry's when the command is registered there."""
    try:
        from nnlab.experiments import REGISTRY
        from nnlab.experiments.base import flag_of

        if command in REGISTRY:
            return flag_of(REGISTRY[command].config_class(), name)
    except Exception:  # noqa: BLE001 - a half-converted family must not break listing
        pass
    return "--" + name.replace("_", "-")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join("all" if v is None else _text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def command_line(spec: RunSpec, quick: bool = False, inputs: dict[str, str] | None = None) -> list[str]:
    """The argv (`nnlab ...`) that runs `spec`; `inputs` maps question ids to the run ids they produced."""
    argv = ["nnlab", *spec.command.split()]
    values = spec.values(quick)

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, str) and value.startswith("@"):
            return (inputs or {}).get(value[1:], f"RUN_OF_{value[1:]}")
        return value

    for name in spec.positional:
        if name in values:
            value = resolve(values[name])
            argv.extend(value if isinstance(value, list) else [str(value)])
    for name, value in values.items():
        if name in spec.positional:
            continue
        flag = flag_for(spec.command, name)
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv.extend([flag, _text(resolve(value))])
    return argv


def shell_line(argv: Sequence[str]) -> str:
    """An argv as one line to paste into a shell."""
    return " ".join(shlex.quote(a) for a in argv)


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, str) and isinstance(want, str) and "/" in want:
        # a file the data file names relative to the checkout (docs/...), recorded as an absolute path
        return have == want or have.replace("\\", "/").endswith("/" + want)
    # JSON round trip: tuples and lists, 0 and 0.0 compare as the files hold them
    try:
        return json.loads(json.dumps(have)) == json.loads(json.dumps(want))
    except (TypeError, ValueError):
        return False


def answers(spec: RunSpec, run: Run) -> bool:
    """True when `run` is a completed run of `spec`'s command with its config values."""
    if run.error or run.command != spec.command or status_of(run) != "completed":
        return False
    config = run.config if isinstance(run.config, dict) else {}
    for name, want in spec.config.items():
        if name in spec.quick or (isinstance(want, str) and want.startswith("@")):
            continue
        if isinstance(want, list) and any(isinstance(v, str) and v.startswith("@") for v in want):
            continue
        if name not in config or not _same(config[name], want):
            return False
    return True


@dataclass
class Answer:
    """The runs found for one question: one per command (None where none answers it)."""

    question: Question
    runs: list[Run | None]

    @property
    def complete(self) -> bool:
        """Every command of the question has a completed run."""
        return bool(self.runs) and all(r is not None for r in self.runs)

    @property
    def found(self) -> int:
        return sum(r is not None for r in self.runs)


def specs_of(assignment: Assignment, question: Question) -> tuple[RunSpec, ...]:
    """The commands whose runs a question reads: its own, or those of the question it `uses`."""
    if question.uses:
        return specs_of(assignment, assignment.question(question.uses))
    return question.runs


def find(assignment: Assignment, runs: Iterable[Run], prefer: set[str] | None = None) -> dict[str, Answer]:
    """For each question, the newest completed run answering each of its commands.

    Runs whose ids are in `prefer` (the children of an assignment run) win over the others.
    """
    ordered = sorted(runs, key=lambda r: (r.id in (prefer or set()), r.info.get("start_time") or 0.0, r.id),
                     reverse=True)
    out = {}
    for question in assignment.questions:
        found = [next((r for r in ordered if answers(spec, r)), None) for spec in specs_of(assignment, question)]
        out[question.id] = Answer(question, found)
    return out


def state(answer: Answer) -> str:
    """`answered`, `partial`, `open`, `missing` (no command yet), `written` or `tool`."""
    question = answer.question
    if question.kind in ("written", "tool"):
        return question.kind
    if answer.complete:
        return "answered"
    if question.missing and not answer.found:
        return "missing"
    return "partial" if answer.found else "open"


def describe(assignment: Assignment, found: dict[str, Answer]) -> dict[str, Any]:
    """The assignment as plain data: each question's state, commands and answering runs."""
    questions = []
    for question in assignment.questions:
        answer = found[question.id]
        specs = specs_of(assignment, question)
        questions.append({
            "id": question.id, "summary": question.summary, "kind": question.kind, "state": state(answer),
            "answered": answer.complete if question.kind == "run" else None,
            "commands": [shell_line(command_line(s)) for s in specs] or ([question.tool] if question.tool else []),
            "runs": [r.id if r is not None else None for r in answer.runs],
            "missing": question.missing, "uses": question.uses, "note": question.note,
        })
    return {"name": assignment.name, "title": assignment.title, "questions": questions}
