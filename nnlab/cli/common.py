"""What every command shares: one-line errors with exit codes, and running an experiment as a run."""

from __future__ import annotations

import errno
import json
import sys
import traceback
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from nnlab.cli.process import exit_code_of
from nnlab.errors import EXIT_FAILED, NnlabError

T = TypeVar("T")


def make_console(json_output: bool = False) -> Console:
    """The console for human output: stderr when stdout carries JSON."""
    return Console(stderr=json_output, highlight=False)


def fail(message: str, code: int = 2, details: Sequence[str] = ()) -> NoReturn:
    """Print `error: message` as one line on stderr (then any detail lines) and exit with `code`.

    The message is shown as plain text: it may hold what the user typed or a file held.
    """
    err = Console(stderr=True, highlight=False)
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    for line in details:
        err.print("  " + escape(line), soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn NnlabError raised inside into a one-line message and its exit code."""
    try:
        yield
    except NnlabError as exc:
        fail(exc.message, exc.exit_code, exc.details)


def build(config_type: Callable[..., T], **values: Any) -> T:
    """Construct a config, turning its validation errors into one-line usage errors."""
    with user_errors():
        return config_type(**values)


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=_default) + "\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if is_dataclass(obj):
        return asdict(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def console_recorder(writer: Any, store: Any, console: Console, images: str = "auto") -> Any:
    """The recorder a command's run reports through, drawing on `console`."""
    from nnlab.view.console import ConsoleRecorder

    return ConsoleRecorder(writer, store, console, images)


def finish_run(writer: Any, console: Console, body: Callable[[], dict]) -> dict:
    """Run `body` inside the run and turn its ending into a message and an exit code.

    Exit codes: 2 for a problem the user can fix, 130 for Ctrl-C and 143 for SIGTERM (the
    run is kept, marked interrupted), 1 for an unexpected failure (traceback saved in the run).
    """
    try:
        with writer:
            result = body()
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (nnlab.cli.signals.Terminated)
        console.print(f"[yellow]interrupted:[/] run kept at {writer.path} (status interrupted, metrics so far saved)")
        raise typer.Exit(exit_code_of(exc)) from None
    except NnlabError as exc:
        fail(f"{exc.message} (run {writer.id} marked failed)", exc.exit_code)
    except OSError as exc:
        if exc.errno not in _DISK_ERRORS:
            _internal_error(writer, exc)
        where = exc.filename or writer.path  # a figure saved through a file object names no path
        fail(f"cannot write {where}: {exc.strerror or exc} (run {writer.id} marked failed); "
             "free some space or pass another --runs-dir", EXIT_FAILED)
    except Exception as exc:  # a bug: keep the traceback for the report, show one line
        _internal_error(writer, exc)
    console.print(f"[green]run saved:[/] {writer.path}")
    return result


# a full disk, a file-size limit, a quota, a read-only or failing device: the disk's fault, no bug
_DISK_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO}


def _internal_error(writer: Any, exc: Exception) -> None:
    """Fail (exit 1) with one line; the traceback goes to the run's error.log when that can be written."""
    log = writer.path / "error.log"
    try:
        log.write_text(traceback.format_exc(), encoding="utf-8")
        saved = f"traceback saved in {log}"
    except OSError as write_exc:
        saved = f"its traceback could not be saved ({write_exc.strerror or write_exc})"
    fail(f"internal error {type(exc).__name__}: {exc}; {saved}", EXIT_FAILED)


def run_experiment(entry: Any, config: Any, *, runs_dir: Path | None, json_output: bool) -> dict:
    """Run a registered experiment as the command line asked: preflight, the run, its ending.

    Preflight (device, data, inputs) runs before the run directory exists, so a usage error or
    missing data is exit 2 with no run left behind. An action flag (e.g. --summary) runs the
    run module's function of that name instead, with no run recorded (as do entries that
    record none: calculators such as `receptive`); so does a run module's
    `records_run(config)` returning False (the run then reports to a silent recorder).
    """
    from nnlab import experiments
    from nnlab.experiments.base import action_requested
    from nnlab.runs.store import RunStore

    console = make_console(json_output)
    images = getattr(config, "images", "auto")
    action = action_requested(config)
    if action or not entry.records:  # an action flag, or a calculator that keeps no run
        function = getattr(entry.run_module(), action) if action else entry.runner()
        with user_errors():
            result = function(config, console_recorder(None, None, console, images))
        if json_output:
            print_json(result)
        return result
    records_run = getattr(entry.run_module(), "records_run", None)
    if records_run is not None and not records_run(config):  # e.g. torchrun's ranks other than 0
        from nnlab.runs.recorder import Recorder

        with user_errors():
            return entry.runner()(config, Recorder())
    store = RunStore(runs_dir)
    with user_errors():
        started = experiments.begin(entry.name, config, store)
    recorder = console_recorder(started.writer, store, console, images)
    result = finish_run(started.writer, console, lambda: started.run(recorder))
    if json_output:
        print_json({"run_id": started.writer.id, "run_dir": str(started.writer.path), **result})
    verdict = getattr(entry.run_module(), "verdict", None)
    problem = verdict(result) if verdict else None
    if problem:
        fail(problem, EXIT_FAILED)
    return result
