"""The browser survives hostile run folders (tests/hostile_runs.py): every run opened, every tab and key tried.

A Textual app re-raises, when its test ends, any exception a widget or worker hit, so an
example passes only if nothing crashed; a reader that hangs (a FIFO, /dev/zero) never lets
the screen finish loading, which `until` turns into a failure.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hostile_runs import DEV_ZERO, FIFO, FOLDER, NO_ACCESS, HostileRun, build_runs, hostile_runs, png, restore_access
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pilot import browsing, sync, table, until

from nnlab.tui.detail import RunScreen

SPECIAL_RUN = HostileRun(
    name="2026-01-01T00-00-00_kmeans_0000ff",
    run_json=b'{"command": "kmeans [bold]x[/]", "status": "running", "start_time": 1e300, "end_time": NaN,'
             b' "config": {"lr": "[red]", "deep": [[[[1]]]]}, "pid": "x", "parent": "2026-01-01T00-00-00_kmeans_0000ff"}',
    metrics=b'{"name": "loss", "value": 1e308, "step": [], "epoch": {}, "split": 7}\n{"name": "[/]", "value": 1}\n'
            + b"[" * 100_000 + b"\n\xff\xfe\n",
    summary=b'{"acc": NaN, "[/]": Infinity}',
    console=FIFO,
    artifacts={"network_table.png": png(20_000, 20_000, rows=2), "network_table.csv": b"a,b\n\xff,[/]\n" * 3,
               "centers.png": DEV_ZERO, "x.png": FOLDER, "y.png": NO_ACCESS},
)


async def visit_every_run(pilot, app) -> None:
    t = table(app)
    for row in range(t.row_count):
        t.move_cursor(row)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await until(pilot, lambda: screen.loaded, timeout=15)
        for key in ("2", "v", "s", "y", "v", "m", "e", "l", "3", "n", "v", "plus", "n", "4", "5", "s", "1"):
            await pilot.press(key)
        await pilot.pause(0.2)
        await pilot.press("escape")
        assert not isinstance(app.screen, RunScreen)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(hostile_runs(), min_size=1, max_size=3))
@example([SPECIAL_RUN])
def test_the_browser_survives_hostile_runs(specs):
    root = Path(tempfile.mkdtemp(prefix="nnlab-hostile-browse-"))
    try:
        build_runs(root / "runs", specs)

        @sync
        async def run() -> None:
            async with browsing(root / "runs", timeout=15, poll_s=0.2, export_dir=root) as (app, pilot):
                await visit_every_run(pilot, app)
                await pilot.press("space", "c")  # compare one run: a notice, no crash
                await pilot.press("question_mark", "escape")
        run()
    finally:
        restore_access(root)
        shutil.rmtree(root, ignore_errors=True)
