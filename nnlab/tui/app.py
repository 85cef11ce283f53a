"""`nnlab browse`: the Textual app. `make_app` builds it for the CLI and the tests alike.

The runs screen reads only run.json files (in a worker) to fill the table, then the
summaries for the key metric column, then polls every few seconds for new and running
runs. Everything heavier (metrics, images) is read when a run is opened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from nnlab.errors import NnlabError
from nnlab.runs import index
from nnlab.runs.store import Run, RunStore
from nnlab.tui.compare import CompareScreen
from nnlab.tui.detail import HALFBLOCK, RunScreen
from nnlab.tui.runs_table import COLUMNS, SORTABLE, RunsTable, bindings
from nnlab.tui.tables import ConfirmScreen
from nnlab.tui.widgets import HelpScreen
from nnlab.view.format import plain
from nnlab.view.graphics import Graphics

TABLE_POLL_S = 2.0


class RunsScreen(Screen):
    """The runs table with its filter box and status line."""

    BINDINGS = bindings(
        shown=[("q", "app.quit", "Quit"), ("slash", "focus_filter", "Filter"), ("c", "compare", "Compare"),
               ("d", "delete", "Delete"), ("r", "rerun", "Re-run")],
        hidden=[("escape", "clear_filter", "Clear filter"), ("x", "clear_selection", "Unselect all"),
                ("ctrl+r", "reload", "Reload")],
    )

    def __init__(self, store: RunStore, poll_s: float = TABLE_POLL_S) -> None:
        super().__init__()
        self.store = store
        self.poll_s = poll_s
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter: command:kmeans  status:failed  lr:4.5  words…", id="filter")
        yield RunsTable(id="runs")
        yield Static("reading runs…", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunsTable).focus()
        self.load_runs()
        if self.poll_s > 0:
            self.set_interval(self.poll_s, self.poll_runs)

    # ---- workers ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def load_runs(self) -> None:
        """Show the runs as the index knows them; once they are drawn, check_runs checks them."""
        known = index.load(self.store)
        self.app.call_from_thread(self._show_runs, known, known.runs(), known.summaries())

    def _show_runs(self, known: index.Index, runs: list[Run], summaries: dict[str, dict]) -> None:
        table = self.query_one(RunsTable)
        table.summaries = summaries
        table.set_runs(runs)
        self.loaded = True
        self.app.loaded_at = time.perf_counter()
        self.call_after_refresh(self.check_runs, known)  # after the first paint, not competing with it

    @work(thread=True, exclusive=True, group="check")
    def check_runs(self, known: index.Index) -> None:
        """Check the index against the files (new, removed and rewritten runs) and update the table."""
        changes = index.refresh(known)
        if changes.runs or changes.removed:
            self.app.call_from_thread(self._apply_poll, changes.runs, changes.removed, changes.summaries())

    @work(thread=True, exclusive=True, group="poll")
    def poll_runs(self) -> None:
        """Find new and removed runs, and re-read the running and unreadable ones whose files changed.

        A running run is passed on either way: its duration grows, and its status turns stale when
        its process is gone. Folder names and two stats a watched run: no file is read unless it changed.
        """
        if not self.loaded:
            return
        table = self.query_one(RunsTable)
        known = dict(table.runs)
        root = self.store.root
        names = set(index.run_folders(root))
        removed = [run_id for run_id in known if run_id not in names]
        changed = [index.read_run(root, name) for name in names if name not in known]
        for run_id, run in known.items():
            if run_id not in names or not (run.error or run.status == "running"):
                continue
            if not run.fresh():
                changed.append(index.read_run(root, run_id))
            elif not run.error:
                changed.append(run)
        if changed or removed:
            self.app.call_from_thread(self._apply_poll, changed, removed, index.key_metrics(changed))

    def _apply_poll(self, changed: list[Run], removed: list[str], summaries: dict[str, dict]) -> None:
        table = self.query_one(RunsTable)
        table.update_runs(changed, removed)
        if summaries:
            table.set_summaries(summaries)

    # ---- events -------------------------------------------------------------------------

    @on(RunsTable.Opened)
    def _open(self, event: RunsTable.Opened) -> None:
        table = self.query_one(RunsTable)
        run_id = event.run.id
        run = Run.load(event.run.path)  # the table holds what the index keeps; the screen shows it all
        self.app.push_screen(RunScreen(run, graphics=self.app.graphics, store=self.store,
                                       export_dir=self.app.export_dir,
                                       children=lambda: table.children_of(run_id)))

    @on(RunsTable.Changed)
    def _status_line(self) -> None:
        table = self.query_one(RunsTable)
        total, shown = len(table.runs), len(table.shown)
        column = next(c for c in COLUMNS if c.key == table.sort_key)
        parts = [f"{shown}/{total} runs" if shown != total else f"{total} runs"]
        if table.selected:
            parts.append(f"{len(table.selected)} selected (c compares)")
        parts.append(f"sort: {column.label} {'↓' if table.reverse else '↑'}")
        if not total:
            parts = [f"no runs under {self.store.root}" + ("" if self.store.root.is_dir() else " (no such folder)")]
        self.query_one("#status-line", Static).update(" · ".join(parts) + f" · {self.store.root}")

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one(RunsTable).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(RunsTable).focus()

    # ---- actions ------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.query_one(RunsTable).focus()

    def action_compare(self) -> None:
        table = self.query_one(RunsTable)
        runs = table.selected_runs()
        if len(runs) < 2:
            self.notify("select two or more runs with space, then press c", severity="warning")
            return
        self.app.push_screen(CompareScreen([Run.load(run.path) for run in runs]))

    def action_delete(self) -> None:
        """d: delete the selected runs (or the one under the cursor), after a yes/no question."""
        table = self.query_one(RunsTable)
        runs = table.selected_runs() or [r for r in [table.current_run()] if r is not None]
        if not runs:
            return
        what = f"run {runs[0].id}" if len(runs) == 1 else f"{len(runs)} selected runs"
        question = f"Delete {what}? Its folder and every file in it are removed for good."
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._delete(runs) if yes else None)

    def _delete(self, runs: list[Run]) -> None:
        removed, refused = [], []
        for run in runs:
            try:
                self.store.remove(run)
            except NnlabError as exc:
                refused.append(exc.message)
            else:
                removed.append(run.id)
        self.query_one(RunsTable).update_runs([], removed)
        if removed:
            self.notify(f"deleted {len(removed)} run{'s' if len(removed) > 1 else ''}")
        for message in refused:
            self.notify(message, severity="error", timeout=8)

    def action_rerun(self) -> None:
        """r: re-run the run under the cursor with `nnlab runs rerun`, after a yes/no question."""
        run = self.query_one(RunsTable).current_run()
        if run is None or run.error:
            self.notify("nothing to re-run: the run is unreadable" if run else "no run", severity="warning")
            return
        question = (f"Re-run {run.id}? `nnlab runs rerun` starts it in the background, from its recorded "
                    "command and config; the new run appears in the table.")
        self.app.push_screen(ConfirmScreen(question), lambda yes: self.rerun(run.id) if yes else None)

    @work(thread=True, group="rerun")
    def rerun(self, run_id: str) -> None:
        """Run `nnlab runs rerun` as its own process (it trains: minutes), then say how it ended."""
        command = [sys.executable, "-m", "nnlab", "runs", "rerun", run_id, "--runs-dir", str(self.store.root)]
        self.app.call_from_thread(self.notify, f"re-running {run_id[-6:]}…")
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", env={**os.environ, "COLUMNS": "100"})
        if done.returncode == 0:
            self.app.call_from_thread(self.notify, f"re-run of {run_id[-6:]} finished")
            return
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        self.app.call_from_thread(self.notify, f"re-run of {run_id[-6:]} ended with exit {done.returncode}: "
                                  f"{plain(last)}", severity="error", timeout=10)

    def action_clear_selection(self) -> None:
        self.query_one(RunsTable).clear_selection()

    def action_reload(self) -> None:
        self.load_runs()


class BrowseApp(App):
    """The run browser."""

    CSS_PATH = "browse.tcss"
    TITLE = "nnlab browse"
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("t", "toggle_theme", "Light/dark", show=False),
    ]

    def __init__(self, store: RunStore, *, theme: str | None = None, poll_s: float = TABLE_POLL_S,
                 graphics: Graphics = HALFBLOCK, export_dir: Path | None = None) -> None:
        super().__init__()
        self.export_dir = export_dir or Path.cwd()  # where CSV exports go by default
        self.store = store
        self.graphics = graphics  # decided before the app starts (nnlab.view.graphics.detect)
        self.poll_s = poll_s
        self.started_at = time.perf_counter()
        self.loaded_at: float | None = None  # when the table was first filled (benchmark, tests)
        if theme:
            self.theme = {"light": "textual-light", "dark": "textual-dark"}.get(theme, theme)

    def get_default_screen(self) -> Screen:
        return RunsScreen(self.store, self.poll_s)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and filter syntax", self.action_help)
        yield SystemCommand("Light or dark", "Switch between the light and the dark theme", self.action_toggle_theme)
        if isinstance(screen, RunsScreen):
            table = screen.query_one(RunsTable)
            yield SystemCommand("Compare selected runs", "Overlay curves and diff configs", screen.action_compare)
            yield SystemCommand("Delete runs", "Delete the selected runs (asks first)", screen.action_delete)
            yield SystemCommand("Re-run", "Re-run the run under the cursor (`nnlab runs rerun`)", screen.action_rerun)
            yield SystemCommand("Clear selection", "Unselect every run", screen.action_clear_selection)
            yield SystemCommand("Clear filter", "Show every run", screen.action_clear_filter)
            yield SystemCommand("Reload runs", "Read the runs folder again", screen.action_reload)
            for column in SORTABLE:
                yield SystemCommand(f"Sort by {column.label}", f"Order the table by {column.label}",
                                    lambda key=column.key: table.sort_by(key))
            for status in ("running", "failed", "stale", "unreadable"):
                yield SystemCommand(f"Show {status} runs", f"Filter the table to status:{status}",
                                    lambda s=status: setattr(screen.query_one("#filter", Input), "value", f"status:{s}"))


def make_app(runs_dir: str | Path | None = None, *, theme: str | None = None,
             poll_s: float = TABLE_POLL_S, graphics: Graphics = HALFBLOCK,
             export_dir: Path | None = None) -> BrowseApp:
    """Build the browser for the runs under `runs_dir` (default: $NNLAB_RUNS, else ./runs).

    `graphics` says how images are drawn; detect it before calling (it asks the terminal).
    """
    return BrowseApp(RunStore(runs_dir), theme=theme, poll_s=poll_s, graphics=graphics, export_dir=export_dir)
