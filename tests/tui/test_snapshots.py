"""Screenshots of the browser over the fixed fixture runs, at 80x24 and 120x40 (pytest-textual-snapshot).

The runs live at a fixed path, with fixed ids, times and values, and times are shown in
UTC, so a screenshot changes only when what the user sees does. After a deliberate change,
look at the new pictures and accept them: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import shutil
import time
from importlib.metadata import version
from pathlib import Path

import fixture_runs as fx
from pilot import until
import pytest
from textual.widgets import Input

from nnlab.tui.app import make_app
from nnlab.tui.runs_table import RunsTable

# Textual's rendering changes between releases: the SVGs are compared only under the release that
# drew them (re-record with --snapshot-update after an upgrade, and bump this).
RECORDED_WITH = "8.2.8"
pytestmark = pytest.mark.skipif(version("textual") != RECORDED_WITH,
                                reason=f"snapshots were drawn with textual {RECORDED_WITH}, "
                                       f"this is {version('textual')}: re-record with --snapshot-update")

ROOT = Path("/tmp/nnlab-snapshot-runs")  # shown in the status line and the overview: it must not vary
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    shutil.rmtree(ROOT, ignore_errors=True)
    fx.build(ROOT)
    yield make_app(ROOT, poll_s=0)
    shutil.rmtree(ROOT, ignore_errors=True)
    monkeypatch.undo()
    time.tzset()


async def table_ready(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.loaded_at is not None, timeout=10.0)  # key metrics come with the rows (the index)
    table = app.screen.query_one(RunsTable)
    await until(pilot, lambda: fx.KMEANS in table.summaries, timeout=10.0)
    await pilot.pause(0.1)


async def open_run(pilot, text: str, *keys: str) -> None:
    await table_ready(pilot)
    pilot.app.screen.query_one(Input).value = text  # the table keeps the focus
    await pilot.press("enter")
    screen = pilot.app.screen
    await until(pilot, lambda: getattr(screen, "loaded", False), timeout=10.0)
    await pilot.press(*keys)
    await pilot.pause(0.3)


def kmeans(*keys: str):
    async def run_before(pilot) -> None:
        await open_run(pilot, "command:kmeans", *keys)
        if "3" in keys:
            pane = pilot.app.screen.query_one("#image-pane")
            await until(pilot, lambda: pane.image is not None, timeout=10.0)
            await pilot.pause(0.3)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_table(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=table_ready)


@pytest.mark.parametrize("size", SIZES)
def test_overview(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=kmeans())


@pytest.mark.parametrize("size", SIZES)
def test_curves(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=kmeans("2"))


@pytest.mark.parametrize("size", SIZES)
def test_images_halfblock(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=kmeans("3"))


@pytest.mark.parametrize("size", SIZES)
def test_values_table(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=kmeans("2", "v"))


@pytest.mark.parametrize("size", SIZES)
def test_compare(app, snap_compare, size):
    async def run_before(pilot) -> None:
        await table_ready(pilot)
        pilot.app.screen.query_one(Input).value = "mlp-tune-trial"  # the table keeps the focus
        await pilot.press("j", "space", "space", "c")  # trials 3 and 2 of the study
        screen = pilot.app.screen
        await until(pilot, lambda: getattr(screen, "loaded", False), timeout=10.0)
        await pilot.pause(0.3)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(app, snap_compare, size):
    async def run_before(pilot) -> None:
        await table_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
