"""A run's tabs through the pilot: a figure's CSV as a table, the values under a curve, the log, a study's trials."""

from __future__ import annotations

import csv

import fixture_runs as fx
import pytest
from pilot import browsing, open_run, rendered, sync, until
from runfactory import make_run
from textual.widgets import Log, Static

from nnlab.tui.detail import RunScreen
from nnlab.tui.imagepane import ImagePane
from nnlab.tui.tables import ConfirmScreen, NumberTable, PathScreen
from nnlab.tui.widgets import CurvePlot, ImageView


@pytest.fixture
def root(tmp_path):
    return fx.build(tmp_path / "runs")


def cells(table: NumberTable) -> list[list[str]]:
    """What the table shows, as text."""
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@sync
async def test_a_figure_with_a_csv_beside_it_opens_as_a_table(root):
    async with browsing(root) as (app, pilot):
        screen = await open_run(pilot, "command:kmeans")
        await pilot.press("3", "n")  # centers.png first, then network_table.png
        table = screen.query_one("#csv-table", NumberTable)
        await until(pilot, lambda: table.display and table.row_count == 10)
        expected = fx.class_table()
        shown = cells(table)
        assert [row[0] for row in shown] == fx.CLASSES
        assert [[int(v) for v in row[1:]] for row in shown] == expected.tolist()
        assert [str(c.label) for c in table.columns.values()] == ["class", *map(str, range(10))]
        info = rendered(screen.query_one("#image-info", Static))
        assert "network_table.csv (2/2) as a table" in info and "columns: center_j" in info
        assert app.focused is table
        await pilot.press("v")  # the picture is one key away
        pane = screen.query_one(ImagePane)
        await until(pilot, lambda: pane.image is not None and not table.display)
        await pilot.pause(0.1)
        assert "▀" in rendered(screen.query_one(ImageView))
        await pilot.press("v")
        await until(pilot, lambda: table.display)


@sync
async def test_values_under_the_curve_sort_copy_and_export(root, tmp_path):
    async with browsing(root, export_dir=tmp_path) as (app, pilot):
        screen = await open_run(pilot, "command:kmeans")
        await pilot.press("2", "v")
        table = screen.query_one("#values-table", NumberTable)
        assert table.display and not screen.query_one(CurvePlot).display and app.focused is table
        # loss per epoch (5 epochs, so per epoch), train and test: exactly the 10 plotted points
        assert screen.curve.name == "loss" and screen.curve.by == "epoch"
        assert table.row_count == 10
        assert table.rows_data[0] == [4, 1, "test", 2.3] and table.rows_data[5] == [4, 1, "train", 2.0]
        table.move_cursor(row=0, column=3)
        await pilot.press("s")  # by value, smallest first; the cursor stays on its row
        values = [row[3] for row in table.rows_data]
        assert values == sorted(values) and table.rows_data[table.cursor_row] == [4, 1, "test", 2.3]
        table.move_cursor(row=0, column=3)
        await pilot.press("y")
        assert app.clipboard == repr(values[0]) == "0.4"
        await pilot.press("Y")
        assert app.clipboard == "20,5,train,0.4"
        summary = screen.query_one("#summary-table", NumberTable)
        assert ["test_accuracy", 0.9] in summary.rows_data
        # export: asked where (the current folder by default), never under the runs root, never over a file unasked
        await pilot.press("x")
        assert isinstance(app.screen, PathScreen)
        await pilot.press("enter")
        target = tmp_path / f"{fx.KMEANS}.loss.epoch.csv"
        await until(pilot, lambda: target.exists())
        with open(target, newline="") as fh:
            written = list(csv.reader(fh))
        assert written[0] == ["step", "epoch", "split", "loss"] and len(written) == 11
        target.write_text("mine\n")
        await pilot.press("x", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert target.read_text() == "mine\n"
        for inside in (root / fx.KMEANS / "values.csv", root / "values.csv"):
            await pilot.press("x")
            app.screen.query_one("#path").value = str(inside)
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert not inside.exists() and isinstance(app.screen, RunScreen)
        await pilot.press("v")
        assert screen.query_one(CurvePlot).display


@sync
async def test_the_log_tab_follows_a_running_run(tmp_path):
    writer = make_run(tmp_path, "cnn", status="running", image=False)
    log = writer.console_log()
    log.write("epoch 1/3 loss 0.52\n")
    async with browsing(tmp_path) as (app, pilot):
        screen = await open_run(pilot, "command:cnn")
        await pilot.press("4")
        view = screen.query_one("#log-view", Log)
        assert view.lines == ["epoch 1/3 loss 0.52"] and app.focused is view
        log.write("epoch 2/3 loss \x1b[31m0.31\x1b[0m [bold]x[/]\n")
        await until(pilot, lambda: len(view.lines) == 2)
        assert view.lines[1] == "epoch 2/3 loss 0.31 [bold]x[/]"  # no colour codes, markup shown as typed
        assert "following" in rendered(screen.query_one("#log-info", Static))
        writer.finish("completed")
        await until(pilot, lambda: screen.run.status == "completed")
        assert "following" not in rendered(screen.query_one("#log-info", Static))


@sync
async def test_a_study_shows_its_trials_and_the_best_so_far(root):
    async with browsing(root) as (app, pilot):
        screen = await open_run(pilot, "0a0b0c")
        assert screen.run.id == fx.TUNE
        await pilot.press("5")
        table = screen.query_one("#trials-table", NumberTable)
        await until(pilot, lambda: table.row_count == 5)
        assert table.header == ["trial", "val_acc", "state", "layers", "units", "lr", "run"]
        states = [row[2] for row in table.rows_data]
        assert states == ["complete", "complete", "complete", "diverged", "interrupted"]
        assert table.rows_data[2][:6] == [2, 0.91, "complete", 3, 128, 0.01]
        plot = screen.query_one("#best-plot", CurvePlot)
        assert plot.series == {"best val_acc": ([0.0, 1.0, 2.0, 3.0, 4.0], [0.85, 0.88, 0.91, 0.91, 0.91])}
        await pilot.press("s")  # by trial, then reversed
        await pilot.press("s")
        assert [row[0] for row in table.rows_data] == [4, 3, 2, 1, 0]
