"""Text for people: numbers, durations, start times and untrusted strings shown literally."""

from __future__ import annotations

import math

from runfactory import make_run

from nnlab.runs.store import Run
from nnlab.view import format as fmt


def test_durations_and_sizes():
    assert fmt.format_duration(42) == "42s" and fmt.format_duration(185) == "3m05s"
    assert fmt.format_duration(3725) == "1h02m"
    for bad in (None, math.nan, math.inf, -1.0, 1e20):
        assert fmt.format_duration(bad) == ""
    assert fmt.human_size(812) == "812 B" and fmt.human_size(14_200) == "14.2 kB" and fmt.human_size(3_100_000) == "3.1 MB"


def test_values_and_key_metric():
    assert fmt.format_value(0.123456) == "0.1235" and fmt.format_value(None) == "null"
    assert fmt.format_value(True) == "true" and fmt.format_value({"a": [1]}) == '{"a": [1]}'
    assert fmt.format_key_metric({"test_loss": 0.5, "test_accuracy": 0.91}) == "test_accuracy 0.91"
    assert fmt.format_key_metric({}) == ""


def test_started_survives_impossible_times(tmp_runs):
    run = Run.load(make_run(tmp_runs, start_time=0.0, image=False).path)
    assert fmt.format_started(run).startswith("1970-01-01") or fmt.format_started(run).startswith("1969-12-31")
    for bad in (1e20, math.nan, math.inf, "yesterday"):
        run.info["start_time"] = bad
        assert fmt.format_started(run) == ""


def test_plain_makes_any_string_printable():
    assert fmt.plain("x[bold]y") == "x[bold]y"  # markup is not interpreted here, and kept
    assert fmt.plain("a\x1b[2Jb") == "a\\x1b[2Jb"  # an escape sequence cannot drive the terminal
    assert fmt.plain("tab\tnew\nline") == "tab\tnew\nline"
    shown = fmt.plain("bad\udcffname")  # an undecodable file name (surrogateescape)
    shown.encode("utf-8")  # printable: no UnicodeEncodeError
    assert shown.startswith("bad") and shown.endswith("name")
    assert len(fmt.plain("x" * 10_000)) == fmt.MAX_SHOWN


def test_describe_row():
    row = {"epoch": 2, "step": 1876, "split": "test", "name": "loss", "value": 0.058754}
    assert fmt.describe_row(row) == "epoch 2 step 1876 test loss 0.05875"
    assert fmt.describe_row({"name": ["x"], "value": "[bold]"}) == '["x"] [bold]'
