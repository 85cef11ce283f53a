"""`nnlab receptive` through Typer's CliRunner: tables, JSON, the caret, the table file, models."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nnlab.cli.app import app

ROW1 = "conv(3,1) conv(3,1) conv(1,1) pool(2,2) conv(2,2)"
TABLE = Path(__file__).resolve().parents[2] / "docs" / "receptive_table.txt"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["receptive", *args])


def test_first_row_says_8x8():
    res = invoke(ROW1)
    assert res.exit_code == 0, res.output
    assert "receptive field: 8 x 8" in res.output
    assert "conv(2,2)" in res.output


def test_json_with_input_and_check():
    res = invoke(ROW1, "--input", "32", "--check", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["receptive_field"] == [8, 8] and data["receptive_field_text"] == "8 x 8"
    assert [r["out"] for r in data["rows"]] == [[30, 30], [28, 28], [28, 28], [14, 14], [7, 7]]
    assert all(r["measured_agrees"] for r in data["rows"])
    assert data["rows"][-1]["measured_rf"] == [8, 8]


def test_non_square_and_flags():
    res = invoke("conv(3x5,1) avgpool(2,2,p=2)", "--input", "6x9", "--json")
    data = json.loads(res.stdout)
    assert data["receptive_field"] == [4, 6]
    assert "padding > half kernel (PyTorch rejects)" in data["rows"][1]["flags"]


def test_parse_error_shows_caret_and_exits_2():
    res = invoke("conv(3,1) conv(3,,1)")
    assert res.exit_code == 2
    lines = res.output.splitlines()
    assert lines[0].startswith("error: expected a number for 's'")
    assert lines[1] == "  conv(3,1) conv(3,,1)"
    assert lines[2] == "  " + " " * 17 + "^"
    assert "Traceback" not in res.output


def test_usage_errors_are_one_line():
    for args in ([], [ROW1, "--model", "mnist-cnn"], [ROW1, "--input", "0"], ["--model", "nope"],
                 ["--table", "/nonexistent/table.txt"]):
        res = invoke(*args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.startswith("error:") and len(res.output.strip().splitlines()) == 1, res.output


def test_table_file_fills_the_assignment(tmp_path):
    res = invoke("--table", str(TABLE), "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["receptive_field"][0] for r in rows] == [8, 26, 15, 27, 20, 147, 282, 18, 18, 91]
    assert rows[0]["matches"] is True and rows[1]["expected"] is None
    text = invoke("--table", str(TABLE))
    assert "282 x 282" in text.output and "✓" in text.output


def test_table_file_with_a_bad_line_names_it(tmp_path):
    bad = tmp_path / "t.txt"
    bad.write_text("conv(3,1)\n\tconv(3,1)\tpool(2,x)\n")
    res = invoke("--table", str(bad))
    assert res.exit_code == 2
    assert f"{bad}:2:" in res.output.splitlines()[0]
    assert res.output.splitlines()[2].index("^") == 2 + res.output.splitlines()[1][2:].index("x")


def test_model_walk_and_autograd_agree(monkeypatch):
    from torch import nn

    from nnlab.tools import receptive_zoo

    monkeypatch.setattr(receptive_zoo, "_REGISTRY", dict(receptive_zoo._REGISTRY))
    receptive_zoo.register_model(
        "tiny", lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(2, 2, 3), nn.Flatten(), nn.LazyLinear(3)),
        (1, 12, 12), "a test model")
    res = invoke("--model", "tiny", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["analytic_and_autograd_agree"] is True
    assert [r["rf"] for r in data["rows"]] == [[3, 3], [4, 4], [8, 8], None]
    assert [r["measured_rf"] for r in data["rows"]] == [[3, 3], [4, 4], [8, 8], [12, 12]]
    assert data["receptive_field"] is None  # the dense head sees the whole input
    text = invoke("--model", "tiny", "--input", "16")
    assert "whole input" in text.output and "autograd agrees" in text.output
    assert "tiny" in invoke("--list-models").output


def test_table_check_measures_each_row(tmp_path):
    table = tmp_path / "t.txt"
    table.write_text("1. conv(3,1) pool(2,2) = 4x4\n2 conv(3x5,2) avgpool(2)\n")
    res = invoke("--table", str(table), "--check", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["measured_rf"] for r in rows] == [[4, 4], [5, 7]]
    assert all(r["measured_agrees"] for r in rows) and rows[0]["matches"] is True


def test_huge_literals_and_inputs_are_refused_in_one_message(tmp_path):
    for args, words in ((["conv(" + "9" * 400 + ",1)"], "k is too large"),
                        (["conv(3," + "9" * 5000 + ")"], "s is too large"),
                        (["conv(3,1)", "--input", "9" * 400], "--input expects"),
                        (["--table", "/dev/zero"], "is not a file")):
        res = invoke(*args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.startswith("error:") and words in res.output and "Traceback" not in res.output
    big = tmp_path / "big.txt"
    big.write_text("conv(3,1)\n" * 200_000)
    res = invoke("--table", str(big))
    assert res.exit_code == 2 and "over 1,000,000 bytes" in res.output


def test_check_estimates_its_memory_before_refusing():
    res = invoke(" ".join(["conv(3,1)"] * 8), "--input", "4096", "--check")
    assert res.exit_code == 2 and "would need about 2.2 GiB" in res.output and "limit 2 GiB" in res.output
