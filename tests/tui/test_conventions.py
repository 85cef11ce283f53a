"""Conventions a user expects from the browser: what Esc, q, d and sorting do, and runs appearing while away."""

from __future__ import annotations

import shutil

from pilot import browsing, filter_to, rendered, sync, table, until
from runfactory import make_corrupt, make_run
from textual.widgets import Static

from nnlab.tui.tables import ConfirmScreen


@sync
async def test_a_run_half_written_while_a_detail_screen_is_open_shows_up_on_return(tmp_runs):
    # the bug: a new cnn run was counted in the status line but missing from the drawn rows
    # until the filter was retyped; a poll first saw its folder before its run.json existed
    old = make_run(tmp_runs, "cnn", image=False, start_time=1000.0)
    make_run(tmp_runs, "kmeans", image=False, start_time=2000.0)
    async with browsing(tmp_runs, poll_s=0.1) as (app, pilot):
        t = table(app)
        await filter_to(pilot, app, "command:cnn")
        await pilot.press("enter")
        folder = make_corrupt(tmp_runs, "2026-12-02T03-00-00_cnn_abcdef", text=None)
        await until(pilot, lambda: folder.name in t.runs)  # seen as unreadable: no command yet
        shutil.copy(old.path / "run.json", folder / "run.json")
        await until(pilot, lambda: not t.runs[folder.name].error)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert folder.name in [run.id for run, _ in t.shown]
        assert "2/3 runs" in rendered(app.screen.query_one("#status-line", Static))
        assert "abcdef" in app.export_screenshot()


@sync
async def test_d_deletes_the_selected_runs_after_asking(tmp_runs):
    keep = make_run(tmp_runs, "kmeans", image=False, start_time=1000.0)
    gone = make_run(tmp_runs, "ae", image=False, start_time=2000.0)
    alive = make_run(tmp_runs, "cnn", status="running", image=False, start_time=3000.0)
    async with browsing(tmp_runs) as (app, pilot):
        t = table(app)
        await filter_to(pilot, app, "command:ae")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen) and gone.id in app.screen.question
        await pilot.press("n")  # no: nothing happens
        assert gone.path.is_dir() and gone.id in t.runs
        await pilot.press("d", "y")
        await until(pilot, lambda: gone.id not in t.runs)
        assert not gone.path.exists() and keep.path.is_dir() and t.row_count == 0
        await pilot.press("escape")  # esc on the table clears the filter
        assert t.row_count == 2
        t.move_cursor(t._index[alive.id])
        await pilot.press("d", "y")  # a run whose process is alive is refused by the store
        await pilot.pause(0.1)
        assert alive.path.is_dir() and alive.id in t.runs
        assert any("still running" in str(n.message) for n in app._notifications)


@sync
async def test_q_quits_from_any_screen_and_esc_goes_back(tmp_runs):
    make_run(tmp_runs, "kmeans", image=False)
    for keys in (["enter"], ["question_mark"], ["enter", "question_mark"]):
        async with browsing(tmp_runs) as (app, pilot):
            await pilot.press(*keys)
            depth = len(app.screen_stack)
            await pilot.press("escape")
            assert len(app.screen_stack) == depth - 1
            await pilot.press(*keys[-1:], "q")
            await pilot.pause(0.1)
            assert app.return_code == 0 and not app.is_running


@sync
async def test_sorting_keeps_the_selected_run_in_view(tmp_runs):
    runs = [make_run(tmp_runs, "kmeans", image=False, epochs=1, steps=1, start_time=1000.0 + i,
                     summary={"test_accuracy": (i * 7 % 30) / 30}) for i in range(30)]
    async with browsing(tmp_runs) as (app, pilot):
        t = table(app)
        await until(pilot, lambda: len(t.summaries) == 30)
        t.move_cursor(25)
        chosen = t.current_run()
        for key in ("s", "s", "s", "s", "S"):
            await pilot.press(key)
            assert t.current_run().id == chosen.id
            top = t.scroll_offset.y
            assert top <= t.cursor_row < top + t.size.height - 1, (t.sort_key, t.cursor_row, top)
        assert len(runs) == 30


@sync
async def test_r_reruns_the_run_through_runs_rerun(tmp_runs):
    from typer.testing import CliRunner

    from nnlab.cli.app import app as cli

    result = CliRunner().invoke(cli, ["adam", "--steps", "5", "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 0, result.output
    async with browsing(tmp_runs, poll_s=0.2) as (app, pilot):
        t = table(app)
        original = t.current_run()
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen) and original.id in app.screen.question
        await pilot.press("y")
        # a new process (Python and nnlab start), first seen perhaps before its run.json is written
        await until(pilot, lambda: t.row_count == 2 and not any(r.error for r in t.runs.values()), timeout=120)
        rerun = next(r for r in t.runs.values() if r.id != original.id)
        assert rerun.command == original.command
        await until(pilot, lambda: any("finished" in str(n.message) for n in app._notifications), timeout=120)


# how `?` writes a key that Textual names otherwise
KEY_TEXT = {"question_mark": "?", "slash": "/", "escape": "esc", "plus": "+", "minus": "-", "down": "↓", "up": "↑",
            "pagedown": "pgdn", "pageup": "pgup"}


def _browser_bindings():
    """(class name, Binding) of every binding declared in nnlab.tui."""
    import importlib
    import inspect
    import pkgutil

    import nnlab.tui
    from textual.binding import Binding

    for module_info in pkgutil.iter_modules(nnlab.tui.__path__):
        module = importlib.import_module(f"nnlab.tui.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                for binding in cls.__dict__.get("BINDINGS", []):
                    yield name, binding if isinstance(binding, Binding) else Binding(*binding)


def test_every_binding_shows_in_the_footer_or_in_help():
    import re

    from nnlab.tui.widgets import HELP

    help_text = re.sub(r"\[/?[a-z ]*\]", "", HELP)  # the markup's tags off
    bindings = list(_browser_bindings())
    assert len(bindings) > 40
    for owner, binding in bindings:
        assert binding.description, f"{owner} binds {binding.key} without a description"
        if binding.show:
            continue  # in the footer while its screen or widget has focus
        keys = [KEY_TEXT.get(key, key) for key in binding.key.split(",")]
        documented = [key for key in keys if re.search(rf"(?<![\w+]){re.escape(key)}(?![\w])", help_text)]
        assert documented, f"{owner}'s {binding.key} ({binding.description}) is neither in the footer nor in ?"
