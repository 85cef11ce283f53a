"""`nnlab browse` through Textual's pilot at 80x24: open, filter, sort, select, compare, images, live."""

from __future__ import annotations

import pytest
from pilot import browsing, filter_to, open_run, rendered, sync, table, until
from runfactory import make_corrupt, make_run
from textual.widgets import Input, Static
from typer.testing import CliRunner

from nnlab.cli.app import app as cli_app
from nnlab.tui.compare import CompareScreen
from nnlab.tui.detail import RunScreen
from nnlab.tui.imagepane import ImagePane
from nnlab.tui.widgets import CurvePlot, HelpScreen, ImageView


@pytest.fixture
def runs(tmp_runs):
    a = make_run(tmp_runs, "kmeans", config={"lr": 4.5, "k": 10}, start_time=1000.0)
    b = make_run(tmp_runs, "ae", config={"lr": 0.1, "k": 10}, base=2.0, start_time=2000.0)
    c = make_run(tmp_runs, "ae", config={"lr": 0.01, "k": 10}, status="failed", start_time=3000.0, image=False)
    make_corrupt(tmp_runs)
    return {"root": tmp_runs, "a": a, "b": b, "c": c}


@sync
async def test_open_lists_runs_and_unreadable_ones(runs):
    async with browsing(runs["root"]) as (app, pilot):
        t = table(app)
        assert t.row_count == 4
        assert t.current_run().id == runs["c"].id  # newest first
        bad = next(r for r in t.runs.values() if r.error)
        assert "unreadable" in str(t.get_row(bad.id)[3])
        await until(pilot, lambda: len(t.summaries) == 3)
        assert "test_accuracy" in str(t.get_row(runs["a"].id)[6])
        await until(pilot, lambda: "4 runs" in rendered(app.screen.query_one("#status-line", Static)))


@sync
async def test_filter_sort_and_keys(runs):
    async with browsing(runs["root"]) as (app, pilot):
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"command:ae", "enter")
        t = table(app)
        assert t.row_count == 2 and app.focused is t
        assert "2/4 runs" in rendered(app.screen.query_one("#status-line", Static))
        await filter_to(pilot, app, "command:ae status:failed")
        assert [r.id for r, _ in t.shown] == [runs["c"].id]
        await pilot.press("escape")
        assert t.row_count == 4 and app.screen.query_one(Input).value == ""
        await pilot.press("j", "k")
        before = t.sort_key
        await pilot.press("s")
        assert t.sort_key != before
        await pilot.press("S")
        assert t.header_label(t.sort_key).endswith("↑")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@sync
async def test_run_detail_curves_and_images(runs):
    async with browsing(runs["root"]) as (app, pilot):
        screen = await open_run(pilot, "command:kmeans")
        assert screen.run.id == runs["a"].id
        assert "4.5" in rendered(screen.query_one("#overview-body", Static))
        await pilot.press("2")
        plot = screen.query_one(CurvePlot)
        await pilot.pause(0.1)
        assert set(plot.series) == {"train", "test"} and plot.xlabel == "step"
        assert "train" in rendered(plot)  # the legend under the plot
        await pilot.press("e", "l")
        assert plot.xlabel == "epoch" and plot.logy
        await pilot.press("m")
        assert screen.curve.name == "accuracy"
        await pilot.press("3")
        pane = screen.query_one(ImagePane)
        await until(pilot, lambda: pane.image is not None)
        await pilot.pause(0.1)
        view = screen.query_one(ImageView)
        assert "▀" in rendered(view)
        assert "centers.png (1/2)" in rendered(screen.query_one("#image-info", Static))
        await pilot.press("plus")
        assert pane.zoom == 2
        await pilot.press("n")
        assert "samples.png (2/2)" in rendered(screen.query_one("#image-info", Static))
        await pilot.press("escape")
        assert not isinstance(app.screen, RunScreen)


@sync
async def test_select_and_compare(runs):
    async with browsing(runs["root"]) as (app, pilot):
        await pilot.press("c")  # nothing selected: a notice, no screen
        assert not isinstance(app.screen, CompareScreen)
        await filter_to(pilot, app, "command:ae")
        await pilot.press("space", "space")
        assert table(app).selected == {runs["b"].id, runs["c"].id}
        await pilot.press("c")
        assert isinstance(app.screen, CompareScreen)
        screen = app.screen
        await until(pilot, lambda: screen.loaded)
        plot = screen.query_one(CurvePlot)
        await pilot.pause(0.1)
        labels = set(plot.series)
        assert {f"{runs['b'].id[-6:]} train", f"{runs['c'].id[-6:]} test"} <= labels
        await pilot.press("f")
        assert all(label.endswith("train") for label in plot.series)
        await pilot.press("2")
        keys = [key for key, _ in screen.diff_rows]
        assert "config.lr" in keys and "config.k" not in keys and "command" not in keys
        assert screen.query_one("#compare-tabs").active == "diff"
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


@sync
async def test_corrupt_image_and_light_theme(runs):
    (runs["a"].path / "artifacts" / "centers.png").write_bytes(b"\x89PNG not really")
    async with browsing(runs["root"], theme="light") as (app, pilot):
        assert not app.current_theme.dark
        await filter_to(pilot, app, "command:kmeans")
        await pilot.press("enter", "3")
        screen = app.screen
        await until(pilot, lambda: "cannot read image" in rendered(screen.query_one(ImageView)))
        await pilot.press("t")
        assert app.current_theme.dark


@sync
async def test_live_run_updates(tmp_runs):
    writer = make_run(tmp_runs, "cnn", status="running", epochs=1, steps=2, image=False)
    async with browsing(tmp_runs, poll_s=0.1) as (app, pilot):
        await pilot.press("enter")
        screen = app.screen
        await until(pilot, lambda: screen.loaded)
        count = len(screen.rows)
        writer.log_metric("loss", 0.01, step=50, epoch=2, split="train")
        await until(pilot, lambda: len(screen.rows) == count + 1)
        writer.set_summary({"test_accuracy": 0.5})
        writer.finish("completed")
        await until(pilot, lambda: screen.run.status == "completed")
        await until(pilot, lambda: "0.5" in rendered(screen.query_one("#overview-body", Static)))
        assert len(screen.rows) == count + 1  # the reload after the end keeps what was read
        await pilot.press("escape")
        t = table(app)
        await until(pilot, lambda: "completed" in str(t.get_row(writer.id)[3]))
        await until(pilot, lambda: "0.5" in str(t.get_row(writer.id)[6]))
        make_run(tmp_runs, "mlp", image=False)  # a new run appears by itself
        await until(pilot, lambda: t.row_count == 2)


@sync
async def test_command_palette_has_run_commands(runs):
    async with browsing(runs["root"]) as (app, pilot):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Compare selected runs" in titles and "Sort by key metric" in titles
        await pilot.press("ctrl+p")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "CommandPalette"


def test_browse_cli_bad_input(tmp_path):
    result = CliRunner().invoke(cli_app, ["browse", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no runs folder" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli_app, ["browse", str(tmp_path), "--theme", "pink"])
    assert result.exit_code == 2 and "unknown theme" in result.output
