"""Helpers for driving the browser through Textual's pilot in tests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io

from rich.console import Console
from textual.widgets import Input

from nnlab.tui.app import make_app
from nnlab.tui.detail import RunScreen
from nnlab.tui.runs_table import RunsTable

SIZE = (80, 24)


def sync(test):
    """Run an async pilot test in its own event loop (no pytest async plugin needed)."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return wrapper


async def until(pilot, condition, timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds (workers finish in threads)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting for the app")


async def loaded(pilot, timeout: float = 5.0) -> None:
    """Wait until the browser has read the runs folder once."""
    app = pilot.app
    await until(pilot, lambda: app.loaded_at is not None, timeout)


@contextlib.asynccontextmanager
async def browsing(root, *, timeout: float = 5.0, **options):
    """The browser over `root` at SIZE, past its first load; yields (app, pilot).

    `options` go to make_app, with poll_s=0 (no polling) unless given."""
    app = make_app(root, **{"poll_s": 0, **options})
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, timeout)
        yield app, pilot


async def filter_to(pilot, app, text: str) -> None:
    """Open the filter box, put `text` in it and submit (typing is tested once, elsewhere)."""
    await pilot.press("slash")
    app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def open_run(pilot, text: str) -> RunScreen:
    """Filter the table to `text`, open the run under the cursor and wait until its screen has read it."""
    await filter_to(pilot, pilot.app, text)
    await pilot.press("enter")
    screen = pilot.app.screen
    assert isinstance(screen, RunScreen)
    await until(pilot, lambda: screen.loaded)
    return screen


def table(app) -> RunsTable:
    return app.screen.query_one(RunsTable)


def rendered(widget) -> str:
    """The plain text of what a Static was last given to show."""
    content = widget.content
    if hasattr(content, "plain"):
        return content.plain
    console = Console(width=widget.size.width or 80, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()
