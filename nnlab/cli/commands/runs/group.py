"""The `nnlab runs` group and what its command modules share: run references and one-line errors.

Every run file is read as hostile (see nnlab.runs.files) and every string from one is shown
literally: `fail` prints its message as plain text, and nnlab.view.format.plain drops control
characters and undecodable bytes first.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer

from nnlab.cli.common import fail
from nnlab.errors import NnlabError

runs_app = typer.Typer(no_args_is_help=True, rich_markup_mode="rich",
                       help="List, show, compare, export and delete saved runs; `runs tail` follows one live.")

RunRef = Annotated[str, typer.Argument(help="A run: its id, a unique prefix or suffix of it, its path, or `latest`.",
                                       show_default=False)]
RunRefs = Annotated[list[str], typer.Argument(help="Runs: ids, unique prefixes or suffixes, paths, or `latest`.",
                                              show_default=False)]


@contextmanager
def run_errors() -> Iterator[None]:
    """NnlabError inside becomes one line; its text (run ids, paths, refs) is shown literally."""
    try:
        yield
    except NnlabError as exc:
        from nnlab.view.format import plain

        fail(plain(exc.message), exc.exit_code)


def store_at(runs_dir: Optional[Path]):
    """The run store under --runs-dir (else $NNLAB_RUNS, else ./runs)."""
    from nnlab.runs.store import RunStore

    return RunStore(runs_dir)


def resolve(store, refs: list[str]) -> list:
    """Resolve refs to runs, failing with one line (exit 2) on the first unknown one."""
    with run_errors():
        return [store.get(ref) for ref in refs]


def readable(runs: list) -> None:
    """Fail with one line on the first unreadable run."""
    from nnlab.view.format import plain

    for run in runs:
        if run.error:
            fail(plain(f"run {run.id} is unreadable: {run.error}"))
