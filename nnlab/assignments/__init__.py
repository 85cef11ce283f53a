"""The five course assignments as data: each question, its summary, and the nnlab runs that answer it.

One JSON file per assignment lives in `nnlab/assignments/data/`, named after its seed. A
question holds:

- `id`, `summary` (one line), `kind`: `run` (answered by recorded runs, the default),
  `written` (a derivation or an explanation: no command) or `tool` (an instant calculator
  that records no run; `tool` is the command line);
- `runs`: the commands, each `{"command", "config", "quick", "positional"}` where `config`
  holds config field values (a value `"@Q"` stands for the run that answered question Q),
  `quick` the overrides of a smoke run, `positional` the fields given as arguments;
- `deliverable`: how the report composes the answer (see nnlab.report.deliverables);
- `uses`: another question whose runs this one reads (Q3 decodes Q2.2's models);
- `missing`: `{"command", "why"}` while the command that answers it does not exist yet;
- `note`: a line for the reader.

The mapping lives in these files, not in code; this module only reads and checks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from nnlab.errors import NnlabError

KINDS = ("run", "written", "tool")
DELIVERABLES = ("artifacts", "lambda_panels", "mean_latent_pair", "originals_over_reconstructions",
                "gap_vs_size", "skip_rows")
MAX_FILE_BYTES = 256 * 1024  # the data files are small; anything bigger is not one of ours


@dataclass(frozen=True)
class RunSpec:
    """One command that answers (part of) a question."""

    command: str
    config: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    positional: tuple[str, ...] = ()

    def values(self, quick: bool = False) -> dict[str, Any]:
        """The config values to run with (the smoke-run overrides on top when `quick`)."""
        return {**self.config, **(self.quick if quick else {})}

    def references(self) -> list[str]:
        """Question ids whose runs this command takes as input (`"@a"` values)."""
        refs = []
        for value in self.config.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith("@"):
                    refs.append(item[1:])
        return refs


@dataclass(frozen=True)
class Question:
    """One question of an assignment."""

    id: str
    summary: str
    kind: str = "run"
    runs: tuple[RunSpec, ...] = ()
    deliverable: dict[str, Any] | None = None
    uses: str | None = None
    missing: dict[str, str] | None = None
    tool: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Assignment:
    """An assignment: its seed name, title and questions in order."""

    name: str
    title: str
    questions: tuple[Question, ...]

    def question(self, qid: str) -> Question:
        """The question called `qid`."""
        for q in self.questions:
            if q.id == qid:
                return q
        raise NnlabError(f"{self.name} has no question '{qid}'; its questions: "
                         f"{', '.join(q.id for q in self.questions)}")


def names() -> list[str]:
    """The assignments shipped with nnlab, by seed name, sorted."""
    folder = resources.files(__package__) / "data"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load(name: str) -> Assignment:
    """The assignment called `name` (a seed name, e.g. kmeans-and-generative-ae)."""
    if name not in names():
        raise NnlabError(f"no assignment called '{name}'; choose one of {', '.join(names())} "
                         "(see `nnlab assignment list`)")
    text = (resources.files(__package__) / "data" / f"{name}.json").read_text(encoding="utf-8")
    if len(text) > MAX_FILE_BYTES:
        raise NnlabError(f"assignment file {name}.json is larger than {MAX_FILE_BYTES} bytes")
    try:
        return parse(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise NnlabError(f"assignment file {name}.json is malformed: {exc}") from None


def load_all() -> list[Assignment]:
    """Every shipped assignment, sorted by name."""
    return [load(name) for name in names()]


# ---- checking the files ---------------------------------------------------------------------

_QUESTION_KEYS = {"id", "summary", "kind", "runs", "deliverable", "uses", "missing", "tool", "note"}
_RUN_KEYS = {"command", "config", "quick", "positional"}


def _need(obj: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, kind):
        raise ValueError(f"{where} must be a {getattr(kind, '__name__', kind)}")
    return obj


def _run_spec(raw: Any, where: str) -> RunSpec:
    _need(raw, dict, where)
    extra = set(raw) - _RUN_KEYS
    if extra:
        raise ValueError(f"{where} has unknown key(s) {sorted(extra)}")
    positional = tuple(_need(raw.get("positional", []), list, f"{where}.positional"))
    return RunSpec(_need(raw["command"], str, f"{where}.command"), dict(_need(raw.get("config", {}), dict, where)),
                   dict(_need(raw.get("quick", {}), dict, where)), positional)


def parse(raw: Any) -> Assignment:
    """An Assignment from a data file's JSON; ValueError names the first problem."""
    _need(raw, dict, "the file")
    questions = []
    seen: set[str] = set()
    for i, q in enumerate(_need(raw["questions"], list, "questions")):
        where = f"question {i + 1}"
        _need(q, dict, where)
        extra = set(q) - _QUESTION_KEYS
        if extra:
            raise ValueError(f"{where} has unknown key(s) {sorted(extra)}")
        qid = _need(q["id"], str, f"{where}.id")
        if qid in seen:
            raise ValueError(f"question id '{qid}' appears twice")
        seen.add(qid)
        kind = q.get("kind", "run")
        if kind not in KINDS:
            raise ValueError(f"question {qid}: kind '{kind}' is not one of {', '.join(KINDS)}")
        deliverable = q.get("deliverable")
        if deliverable is not None and _need(deliverable, dict, f"{qid}.deliverable").get("kind") not in DELIVERABLES:
            raise ValueError(f"question {qid}: deliverable kind must be one of {', '.join(DELIVERABLES)}")
        runs = tuple(_run_spec(r, f"question {qid} run {j + 1}") for j, r in enumerate(_need(q.get("runs", []), list, qid)))
        uses = q.get("uses")
        for ref in [uses] + [r for spec in runs for r in spec.references()]:
            if ref is not None and ref not in seen:
                raise ValueError(f"question {qid} refers to '{ref}', which is not an earlier question")
        if kind == "run" and not runs and uses is None and q.get("missing") is None:
            raise ValueError(f"question {qid} has no runs; mark it written, tool or missing")
        questions.append(Question(qid, _need(q["summary"], str, f"{qid}.summary"), kind, runs, deliverable, uses,
                                  q.get("missing"), q.get("tool"), q.get("note")))
    return Assignment(_need(raw["name"], str, "name"), _need(raw["title"], str, "title"), tuple(questions))
