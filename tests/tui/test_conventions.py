"""Conventions a user expects from the browser: what Esc, q, d and sorting do, and runs appearing while away."""

from __future__ import annotations

import shutil

from pilot import SIZE, filter_to, rendered, sync, table, until
from runfactory import make_corrupt, make_run
from textual.widgets import Static

from nnlab.tui.app import make_app


@sync
async def test_a_run_half_written_while_a_detail_screen_is_open_shows_up_on_return(tmp_runs):
    # the bug: a new cnn run was counted in the status line but missing from the drawn rows
    # until the filter was retyped; a poll first saw its folder before its run.json existed
    old = make_run(tmp_runs, "cnn", image=False, start_time=1000.0)
    make_run(tmp_runs, "kmeans", image=False, start_time=2000.0)
    app = make_app(tmp_runs, poll_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded_at is not None)
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
