"""An index of the runs under a root, so listing 100,000 runs reads one file instead of 100,000.

`.nnlab-index.json` in the runs root holds, per run folder, the run.json fields a list
needs (command, status, times, parent, process, error), the flattened config as JSON
text (parsed only when a filter asks), the summary's key metric, and the size and
modification time of run.json and summary.json when they were read. It is stored by
column: one JSON array per field, row i for the folder names[i], and each text once in
`texts` with the columns holding its position (a command or a config shared by many
runs is parsed once). That parses in a fraction of the time of one object per run and
is checked a column at a time.

It is a cache: `load` trusts it for a fast first answer, and `refresh` lists the run
folders, reads the new ones, checks every row against its files, re-reads what changed,
and rewrites the index. A missing, foreign, corrupt or oversized index is rebuilt from
the run folders; a column of the wrong length or a value of the wrong type or out of
range makes the whole file count as missing; a runs root that cannot be written to (a
read-only copy) is simply read without one.
"""

from __future__ import annotations

import gc
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from nnlab.errors import NnlabError
from nnlab.runs import query
from nnlab.runs.files import Unreadable, atomic_output, read_regular
from nnlab.runs.files import RUN_FILE, SUMMARY_FILE
from nnlab.runs.store import Run, RunStore

INDEX_FILE = ".nnlab-index.json"
VERSION = 2  # version 1 held one object per run; such an index is rebuilt
INDEX_CAP = 2_000_000_000  # bytes: the index of a million runs (about 300 MB) still fits

_TEXT, _NUMBER, _INT = "text", {int, float, type(None)}, {int, type(None)}
# run.json fields a list needs, as the index stores them (Run.info keys, same names)
INFO = {"command": _TEXT, "status": _TEXT, "start": _TEXT, "start_time": _NUMBER, "end_time": _NUMBER,
        "parent": _TEXT, "pid": _INT, "host": _TEXT, "error": _TEXT}
# every column of a row, in order, with the types its values may have (text: a str or None)
COLUMNS = {**INFO, "unreadable": _TEXT, "config": _TEXT, "key_name": _TEXT, "key_value": _NUMBER,
           "run_size": _INT, "run_mtime": _INT, "summary_size": _INT, "summary_mtime": _INT}
UNREADABLE, CONFIG, KEY_NAME, KEY_VALUE, SIGNATURE = (list(COLUMNS).index(k) for k in
                                                      ("unreadable", "config", "key_name", "key_value", "run_size"))

Row = tuple  # one value per COLUMNS entry


def flat_config(config: dict) -> dict:
    """A config as one level of dotted keys and scalar values (a list kept as its text), which is
    all a filter looks at (nnlab.runs.query.parse_filter matches str(value)) and needs no depth check."""
    return {k: v if _scalar(v) else str(v) for k, v in query.flatten(config).items()}


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _clean(value: object, types: set | str) -> object:
    """`value` as a column of `types` may hold it: as it is, as its text, or None."""
    if types == _TEXT:
        return value if value is None or type(value) is str else str(value)
    return value if type(value) in types else None


def _signature(file: str) -> tuple:
    """(size, mtime in ns) of a file, or (None, None) when it is absent or unreadable."""
    try:
        info = os.stat(file)
    except (OSError, ValueError):  # ValueError: a NUL in a planted name
        return None, None
    return info.st_size, info.st_mtime_ns


def signature(folder: str) -> tuple:
    """The signature columns of a run folder: run.json's size and mtime, then summary.json's."""
    return _signature(f"{folder}/{RUN_FILE}") + _signature(f"{folder}/{SUMMARY_FILE}")


def read_row(root: Path, name: str) -> Row:
    """Read run folder `name`'s run.json and summary.json into a row (signatures taken first:
    a change after that is seen next time)."""
    folder = os.path.join(root, name)
    sig = signature(folder)
    run = Run.load(Path(folder))
    found = query.key_metric(run.summary()) if not run.error else None
    config = run.info.get("config")
    info = tuple(_clean(run.info.get(key), types) for key, types in INFO.items())
    return (*info, run.error, json.dumps(flat_config(config) if isinstance(config, dict) else {}),
            *(found or (None, None)), *sig)


class IndexedRun(Run):
    """A run as a row of the index knows it. Nothing is read from disk and no Path is made until
    asked: the fields a table shows come from the row, the config is parsed on first use, and
    Run.load(run.path) gives the whole run.json when a run is opened."""

    def __init__(self, root: Path, name: str, row: Row) -> None:  # not Run's: that would make the Path now
        self.root, self.name, self.row = root, name, row
        self._path: Path | None = None
        self._config: dict | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = self.root / self.name
        return self._path

    @property
    def id(self) -> str:
        return self.name

    @property
    def location(self) -> str:
        return os.path.join(self.root, self.name)  # as str(self.path) gives it, without making the Path

    @property
    def error(self) -> str | None:
        return self.row[UNREADABLE]

    @property
    def info(self) -> dict:
        """The run.json fields the index keeps, absent and null alike left out, and the config
        aside (it is `config`, parsed once): all a list reads, made anew on each call."""
        return {key: value for key, value in zip(INFO, self.row) if value is not None}

    @property
    def command(self) -> str:
        return "?" if self.row[0] is None else self.row[0]

    @property
    def status(self) -> str:
        return "unreadable" if self.error else "?" if self.row[1] is None else self.row[1]

    @property
    def started(self) -> float | None:
        return self.row[3]

    @property
    def ended(self) -> float | None:
        return self.row[4]

    @property
    def parent(self) -> str | None:
        return self.row[5]

    @property
    def config(self) -> dict:
        """The flattened config; {} when the stored text is not a flat JSON object (a planted index)."""
        if self._config is None:
            self._config = _parse_config(self.row[CONFIG])
        return self._config

    @property
    def key(self) -> dict:
        """{name: value} of the summary's key metric, or {} when it has none."""
        name = self.row[KEY_NAME]
        return {} if name is None else {name: self.row[KEY_VALUE]}

    def fresh(self) -> bool:
        """True when run.json and summary.json are as they were when this row was read."""
        return self.row[SIGNATURE:] == signature(os.path.join(self.root, self.name))


def read_run(root: Path, name: str) -> IndexedRun:
    """Run folder `name` read from its files now, as a row (see read_row)."""
    return IndexedRun(root, name, read_row(root, name))


def _parse_config(text: str | None) -> dict:
    try:
        config = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return {}
    if not isinstance(config, dict) or not all(map(_scalar, config.values())):
        return {}
    return config


@dataclass
class Index:
    """The runs of one root as the index knows them: `rows` by folder name, in name order."""

    store: RunStore
    rows: dict[str, Row] = field(default_factory=dict, repr=False)  # repr: Textual names a worker by its arguments
    changed: bool = False

    @property
    def path(self) -> Path:
        return self.store.root / INDEX_FILE

    def runs(self) -> list[IndexedRun]:
        """Every run, oldest first, as its row knows it (Run.load gives the rest)."""
        root = self.store.root
        with many_objects():
            return [IndexedRun(root, name, row) for name, row in self.rows.items()]

    def summaries(self) -> dict[str, dict]:
        """{run id: {key metric: value}} for the runs that have one."""
        return {name: {row[KEY_NAME]: row[KEY_VALUE]} for name, row in self.rows.items() if row[KEY_NAME] is not None}

    def save(self) -> None:
        """Write the index if it changed; a root that cannot be written to is left without one."""
        if not self.changed:
            return
        names = sorted(self.rows)
        columns = list(zip(*map(self.rows.__getitem__, names))) or [()] * len(COLUMNS)
        codes: dict[str | None, int] = {None: 0}  # text -> its position in texts, + 1 (0 is None)
        data = {key: [codes.setdefault(v, len(codes)) for v in values] if types == _TEXT else list(values)
                for (key, types), values in zip(COLUMNS.items(), columns)}
        texts = list(codes)[1:]
        try:
            with atomic_output(self.path) as fh:  # dumps: one C call, where dump writes piecemeal
                fh.write(json.dumps({"version": VERSION, "names": names, "texts": texts, "columns": data},
                                    separators=(",", ":")))
        except NnlabError:
            return  # a read-only runs root (a copy, a mount): the index is only a cache
        self.changed = False


def stored(root: Path) -> dict[str, Row]:
    """The rows of the index file under `root`, or {} when it is missing or not exactly what
    this version writes: every column a list as long as `names`, every value of its type,
    every text column's position inside `texts`."""
    try:
        data = json.loads(read_regular(root / INDEX_FILE, INDEX_CAP))
    except (OSError, Unreadable, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    names, texts, columns = data.get("names"), data.get("texts"), data.get("columns")
    if not (isinstance(names, list) and isinstance(texts, list) and isinstance(columns, dict)
            and set(map(type, names)) <= {str} and set(map(type, texts)) <= {str}):
        return {}
    lookup = [None, *texts]
    table = []
    for key, types in COLUMNS.items():
        values = columns.get(key)
        if not isinstance(values, list) or len(values) != len(names):
            return {}
        # type() rather than isinstance, so a bool is no number; set(map(...)) and map(...) run in C
        kinds = set(map(type, values))
        if types == _TEXT:
            if not kinds <= {int} or (values and not 0 <= min(values) <= max(values) < len(lookup)):
                return {}
            values = list(map(lookup.__getitem__, values))
        elif not kinds <= types:
            return {}
        table.append(values)
    return dict(zip(names, zip(*table)))


@contextmanager
def many_objects() -> Iterator[None]:
    """Around making the objects of 100,000 runs at once (rows, runs, their order): Python's cycle
    collector, woken every 700 new objects, would walk them all again and again (a third of the
    time), yet none of them is in a cycle. Process-wide; re-enabled by whoever disabled it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    """The runs under `store`'s root, fast: as the index knows them, unchecked. Without an index
    every run folder is read (and `changed` set). Call `refresh` next (from a worker) to catch
    what changed on disk: new, removed and rewritten runs."""
    with many_objects():
        index = Index(store, stored(store.root))
        if not index.rows:
            index.rows = {name: read_row(store.root, name) for name in sorted(run_folders(store.root))}
            index.changed = bool(index.rows)
    return index


@dataclass
class Changes:
    """What `refresh` found: runs new or rewritten (read again), and the ids of those gone."""

    runs: list[IndexedRun]
    removed: list[str]

    def summaries(self) -> dict[str, dict]:
        """{run id: key metric} of the runs read again that have one."""
        return key_metrics(self.runs)


def key_metrics(runs: list[IndexedRun]) -> dict[str, dict]:
    """{run id: {key metric: value}} for the runs that have one."""
    return {run.id: run.key for run in runs if run.key}


def refresh(index: Index) -> Changes:
    """List the run folders and check every row against its files: read the new and the changed
    runs, drop the ones gone, and save the index. Returns what changed, to update a list shown already."""
    root = index.store.root
    names = run_folders(root)
    removed = sorted(set(index.rows).difference(names))
    for name in removed:
        del index.rows[name]
    changed = []
    base = os.fspath(root)
    for name in names:
        row = index.rows.get(name)
        if row is None or row[SIGNATURE:] != signature(f"{base}/{name}"):
            changed.append(run := read_run(root, name))
            index.rows[name] = run.row
    index.changed = index.changed or bool(changed or removed)
    index.save()
    return Changes(changed, removed)


def read(store: RunStore) -> Index:
    """Every run, checked against its files (what `runs list` shows), and the index saved."""
    index = load(store)
    refresh(index)
    return index
