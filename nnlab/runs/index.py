"""An index of the runs under a root, so listing 100,000 runs reads one file instead of 100,000.

`.nnlab-index.json` in the runs root holds, per run folder, the run.json fields a list
needs (command, status, times, parent, process, config, error), the summary's key
metric, and the size and modification time of both files when they were read. It is a
cache: `load` trusts it for a fast first answer, and `refresh` checks every entry
against its files, re-reads what changed, and rewrites the index. A missing, foreign or
corrupt index is rebuilt from the run folders; a runs root that cannot be written to
(a read-only copy) is simply read without one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from nnlab.errors import NnlabError
from nnlab.runs import query
from nnlab.runs.files import Unreadable, atomic_output, read_regular
from nnlab.runs.files import RUN_FILE, SUMMARY_FILE
from nnlab.runs.store import Run, RunStore
from nnlab.runs.store import _check_fields as check_fields

INDEX_FILE = ".nnlab-index.json"
VERSION = 1
INDEX_CAP = 2_000_000_000  # bytes: the index of a million runs still fits
FIELDS = ("command", "status", "config", "parent", "start", "start_time", "end_time", "pid", "host", "error")

def flat_config(config: dict) -> dict:
    """A config as one level of dotted keys and scalar values (a list kept as its text), which is
    all a filter looks at (nnlab.runs.query.parse_filter matches str(value)) and needs no depth check."""
    return {k: v if _scalar(v) else str(v) for k, v in query.flatten(config).items()}


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


Signature = list  # [size, mtime_ns] of a file, or None when absent


def _signature(path: Path) -> Signature | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


@dataclass(slots=True)
class Entry:
    """What the index keeps of one run."""

    info: dict
    error: str | None
    key: dict  # {name: value} of the summary's key metric, or {}
    signature: list  # [run.json signature, summary.json signature]

    @classmethod
    def read(cls, path: Path) -> "Entry":
        """Read a run folder's run.json and summary.json (signatures taken first: a change after is seen next time)."""
        signature = [_signature(path / RUN_FILE), _signature(path / SUMMARY_FILE)]
        run = Run.load(path)
        found = query.key_metric(run.summary()) if not run.error else None
        info = {k: run.info[k] for k in FIELDS if k in run.info}
        if isinstance(info.get("config"), dict):
            info["config"] = flat_config(info["config"])
        return cls(info, run.error, {found[0]: found[1]} if found else {}, signature)

    def fresh(self, path: Path) -> bool:
        """True when run.json and summary.json are as they were when this entry was read."""
        return self.signature == [_signature(path / RUN_FILE), _signature(path / SUMMARY_FILE)]

    def to_json(self) -> dict:
        return {"info": self.info, "error": self.error, "key": self.key, "sig": self.signature}

    @classmethod
    def from_json(cls, data: object) -> "Entry | None":
        """An entry as stored, or None when it is not what this version writes."""
        if not isinstance(data, dict):
            return None
        info, error, key, sig = data.get("info"), data.get("error"), data.get("key"), data.get("sig")
        if not (isinstance(info, dict) and isinstance(key, dict) and isinstance(sig, list) and len(sig) == 2
                and (error is None or isinstance(error, str))):
            return None
        try:
            check_fields(info)  # the same types Run.load insists on: a planted index is no way in
        except Unreadable:
            return None
        if not all(_scalar(v) for v in info.get("config", {}).values()) or not all(map(_scalar, key.values())):
            return None
        if any(isinstance(v, (dict, list)) for k, v in info.items() if k != "config"):
            return None
        return cls(info, error, key, sig)


@dataclass
class Index:
    """Runs of one root as the index knows them: `runs` (slim run.json) and `summaries` (key metric only)."""

    store: RunStore
    entries: dict[str, Entry] = field(default_factory=dict)
    changed: bool = False

    @property
    def path(self) -> Path:
        return self.store.root / INDEX_FILE

    def runs(self) -> list[Run]:
        """Every run, oldest first, with the run.json fields a list needs (Run.load gives the rest)."""
        return [Run(self.store.root / name, entry.info, entry.error) for name, entry in sorted(self.entries.items())]

    def summaries(self) -> dict[str, dict]:
        """{run id: {key metric: value}} for the runs that have one."""
        return {name: entry.key for name, entry in self.entries.items() if entry.key}

    def save(self) -> None:
        """Write the index if it changed; a root that cannot be written to is left without one."""
        if not self.changed:
            return
        data = {"version": VERSION, "runs": {name: e.to_json() for name, e in self.entries.items()}}
        try:
            with atomic_output(self.path) as fh:  # compact: 100,000 runs in half the bytes of indented JSON
                json.dump(data, fh, separators=(",", ":"))
        except NnlabError:
            return  # a read-only runs root (a copy, a mount): the index is only a cache
        self.changed = False


def _stored(store: RunStore) -> dict[str, Entry]:
    # parsed without the generic depth walk (it cost more than the parse): what this version
    # writes is three levels deep, and Entry.from_json refuses anything deeper
    try:
        data = json.loads(read_regular(store.root / INDEX_FILE, INDEX_CAP))
    except (OSError, Unreadable, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    runs = data.get("runs") if data.get("version") == VERSION else None
    if not isinstance(runs, dict):
        return {}
    return {name: entry for name, raw in runs.items() if (entry := Entry.from_json(raw)) is not None}


def run_folders(root: Path) -> list[str]:
    """Names of the run folders under `root`, as RunStore.paths() finds them, without a Path each."""
    try:
        with os.scandir(root) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and _is_dir(e)]
    except OSError:
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # the file type readdir gave: no stat for a plain folder
    except OSError:
        return False


def load(store: RunStore) -> Index:
    """The runs under `store`'s root, fast: folders the index knows are taken from it unchecked,
    new ones are read. Call `refresh` next (from a worker) to catch what changed on disk."""
    stored = _stored(store)
    index = Index(store)
    for name in run_folders(store.root):
        entry = stored.get(name)
        if entry is None:
            entry = Entry.read(store.root / name)
            index.changed = True
        index.entries[name] = entry
    index.changed = index.changed or len(index.entries) != len(stored)
    return index


def refresh(index: Index) -> tuple[list[Run], dict[str, dict]]:
    """Check every entry against its files; re-read the changed ones and save the index.

    Returns the runs whose entries changed and their key metrics, to update a list shown already.
    """
    changed: list[Run] = []
    for name, entry in list(index.entries.items()):
        path = index.store.root / name
        if not entry.fresh(path):
            index.entries[name] = entry = Entry.read(path)
            index.changed = True
            changed.append(Run(path, entry.info, entry.error))
    index.save()
    return changed, {run.id: index.entries[run.id].key for run in changed}


def read(store: RunStore) -> Index:
    """Every run, checked against its files (what `runs list` shows), and the index saved."""
    index = load(store)
    refresh(index)
    return index
