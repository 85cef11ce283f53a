"""`nnlab receptive`: receptive fields of a layer string, of nnlab's own models, or of a whole table.

A calculator: instant, nothing recorded. torch is imported only for --model and --check.
The result dict is what `--json` prints; the tables go through the recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnlab.errors import NnlabError
from nnlab.experiments.base import Setup
from nnlab.experiments.receptive.config import ReceptiveConfig
from nnlab.runs.recorder import Recorder
from nnlab.tools.receptive import (LayerRow, LayerSpec, ReceptiveParseError, compute, format_rf, parse,
                                   parse_input_size, parse_table)

MAX_CHECK_SIZE = 4096  # a one-channel float64 image this size is 128 MiB per layer
CHECK_MEMORY = 2 * 2**30  # bytes --check may use: activations and their gradients, float64
MAX_TABLE_BYTES = 1_000_000  # a table file of layer strings; the assignment's is 400 bytes
OK, WRONG = "[green]✓[/]", "[red]✗[/]"


def _pair(p) -> str:
    """(3, 3) -> "3", (3, 5) -> "3x5", floats without trailing zeros."""
    if p is None:
        return ""
    a, b = (f"{v:g}" for v in p)
    return a if a == b else f"{a}x{b}"


def parse_layers(text: str, where: str = "") -> list[LayerSpec]:
    """The specs of a layer string; a mistake is an NnlabError showing the string with a caret."""
    try:
        return parse(text)
    except ReceptiveParseError as exc:
        raise NnlabError(f"{where}{exc.message} (column {exc.position + 1})",
                         details=tuple(exc.caret().splitlines())) from None


def _row_json(r: LayerRow, measured=None) -> dict[str, Any]:
    s = r.spec
    row = {"index": r.index + 1, "layer": s.label, "kind": s.kind, "kernel": s.kernel, "stride": s.stride,
           "padding": s.padding, "dilation": s.dilation, "ceil_mode": s.ceil_mode, "jump": r.jump,
           "rf": r.rf, "start": r.start, "out": r.out, "flags": list(r.flags)}
    if measured is not None:
        row["measured_rf"] = measured[0]
        row["measured_agrees"] = measured[1]
    return row


def _whole(r: LayerRow) -> str:
    """A global layer's field: the whole input, or the part strided layers before it reach."""
    if r.covered is None:
        return "whole"
    (r0, r1), (c0, c1) = r.covered
    return f"{r1 - r0 + 1} x {c1 - c0 + 1}"


def _show_layers(recorder: Recorder, title: str, rows: list[LayerRow], measured: list | None, show_out: bool) -> None:
    columns = ["#", "layer", "k", "s", "p", "d", "jump", "RF", "start"] + (["out"] if show_out else []) \
        + (["measured"] if measured is not None else []) + ["flags"]
    cells = []
    for r in rows:
        s = r.spec
        geo = [_pair(s.kernel), _pair(s.stride), _pair(s.padding), _pair(s.dilation)] if s.kind != "global" else [""] * 4
        row = [str(r.index + 1), s.label] + geo + [
            _pair(r.jump) if r.rf else "", format_rf(r.rf) if r.rf else _whole(r), _pair(r.start) if r.rf else ""]
        if show_out:
            row.append(_pair(r.out) if s.kind != "global" else "")
        if measured is not None:
            extent, ok = measured[r.index]
            row.append(f"{format_rf(extent)} {OK if ok else WRONG}")
        cells.append(row + [f"[red]{'; '.join(r.flags)}[/]" if r.flags else ""])
    recorder.table(title, columns, cells)


def _verdict(recorder: Recorder, rows: list[LayerRow], agree: bool | None) -> None:
    last = rows[-1]
    recorder.info(f"receptive field: [bold]{format_rf(last.rf)}[/]"
                  + (f" ({_whole(last)} of it is ever read)" if last.rf is None and _whole(last) != "whole" else ""))
    if agree is True:
        recorder.info("[green]autograd agrees[/]: each layer's measured box is the analytic field "
                      "(clipped to the input)")
    elif agree is False:
        recorder.info("[red]autograd disagrees[/] on rows marked ✗: the forward pass does something the "
                      "layer walk cannot see (functional pooling, skips, reshapes)")


# ---- autograd checks --------------------------------------------------------------------------

def _measure_string(specs, rows, hw):
    """Autograd check of a layer string: a 1-channel module with the specs' geometry."""
    from nnlab.tools.receptive_model import measure_layers, specs_to_module

    if hw is None:  # no size given: one large enough for the centre unit's whole field
        last = rows[-1]
        n = 3 * max(last.rf) + 4 * max(last.jump) + 4
        if n > MAX_CHECK_SIZE:
            raise NnlabError(f"--check: a {format_rf(last.rf)} field needs a {n}x{n} input to measure; "
                             f"give --input of at most {MAX_CHECK_SIZE} to measure a clipped field instead")
        hw = (n, n)
        rows = compute(specs, hw)
    if min(rows[-1].out) < 1:
        raise NnlabError("--check needs a non-empty output; enlarge --input")
    if max(hw) > MAX_CHECK_SIZE:
        raise NnlabError(f"--check measures inputs of at most {MAX_CHECK_SIZE}x{MAX_CHECK_SIZE}; got {hw[0]}x{hw[1]}")
    need = hw[0] * hw[1] * 8 * 2 * (len(specs) + 1)  # every layer's float64 output and its gradient, at most
    if need > CHECK_MEMORY:
        raise NnlabError(f"--check would need about {need / 2**30:.1f} GiB for a {hw[0]}x{hw[1]} input through "
                         f"{len(specs)} layers (limit {CHECK_MEMORY / 2**30:.0f} GiB); give a smaller --input")
    return _compare(rows, measure_layers(specs_to_module(specs), (1, *hw)), hw)


def _compare(rows, found, hw):
    from nnlab.tools.receptive_model import expected_box

    out = []
    for r, m in zip(rows, found):
        box = expected_box(rows[:r.index + 1], hw, m.unit)
        out.append((m.extent, (m.rows, m.cols) == box))
    return out


# ---- the three inputs -------------------------------------------------------------------------

def list_models(config: ReceptiveConfig, recorder: Recorder) -> dict:
    """`--list-models`: the models --model accepts."""
    from nnlab.tools.receptive_zoo import registered_models

    models = registered_models()
    for n, e in models.items():
        recorder.info(f"[bold]{n}[/]  input {'x'.join(map(str, e.input_shape))}  {e.description}")
    return {"models": {n: {"input": e.input_shape, "description": e.description} for n, e in models.items()}}


def _run_model(name: str, input_hw: str | None, recorder: Recorder) -> dict:
    from nnlab.tools.receptive_model import measure_layers, walk
    from nnlab.tools.receptive_zoo import registered_models

    models = registered_models()
    if name not in models:
        raise NnlabError(f"unknown --model {name!r}; registered: {', '.join(models) or 'none'}")
    entry = models[name]
    c, h, w = entry.input_shape
    hw = parse_input_size(input_hw) if input_hw else (h, w)
    if max(hw) > MAX_CHECK_SIZE:
        raise NnlabError(f"--model runs the network on its input: at most {MAX_CHECK_SIZE}x{MAX_CHECK_SIZE}, "
                         f"got {hw[0]}x{hw[1]}")
    model = entry.factory()
    specs = walk(model, (c, *hw))
    rows = compute(specs, hw)
    measured = _compare(rows, measure_layers(model, (c, *hw)), hw)
    agree = all(ok for _, ok in measured)
    _show_layers(recorder, f"{name}: {entry.description} (input {c}x{hw[0]}x{hw[1]})", rows, measured, True)
    _verdict(recorder, rows, agree)
    return {"model": name, "input": [c, *hw], "rows": [_row_json(r, m) for r, m in zip(rows, measured)],
            "receptive_field": rows[-1].rf, "analytic_and_autograd_agree": agree}


def _run_table(path: Path, input_hw, check: bool, recorder: Recorder) -> dict:
    if not path.is_file():  # a folder, a FIFO or a device is no table
        raise NnlabError(f"--table: {path} is not a file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TABLE_BYTES + 1)
        content = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NnlabError(f"--table: cannot read {path}: "
                         f"{exc.strerror if isinstance(exc, OSError) else 'not a text file'}") from None
    if len(raw) > MAX_TABLE_BYTES:
        raise NnlabError(f"--table: {path} is over {MAX_TABLE_BYTES:,} bytes; a table holds one layer string a line")
    lines = parse_table(content)
    if not lines:
        raise NnlabError(f"--table: {path} has no layer strings (one per line, # for comments)")
    results = []
    for line in lines:
        specs = parse_layers(line.text, f"{path}:{line.line_no}: ")
        rows = compute(specs, input_hw)
        measured = _measure_string(specs, compute(specs), None)[-1] if check else None
        results.append((line, rows, measured))
    columns = ["row", "layers", "receptive field"] + (["out"] if input_hw else []) + (["autograd"] if check else []) \
        + ["given", ""]
    cells, wrong = [], 0
    for ln, rows, measured in results:
        rf = rows[-1].rf
        wrong += bool(ln.expected is not None and rf != ln.expected)
        flags = sorted({f for r in rows for f in r.flags})
        extra = [_pair(rows[-1].out)] if input_hw else []
        if measured:
            extra.append(f"{format_rf(measured[0])} {OK if measured[1] else WRONG}")
        cells.append([ln.label, " ".join(ln.text.split()) + (f" [red]({'; '.join(flags)})[/]" if flags else ""),
                      f"[bold]{format_rf(rf)}[/]", *extra, "" if ln.expected is None else format_rf(ln.expected),
                      "" if ln.expected is None else (OK if rf == ln.expected else WRONG)])
    recorder.table(f"receptive fields, one row per line of {path.name}", columns, cells)
    if wrong:
        recorder.info(f"[red]{wrong} row(s) differ from the value given in the file[/]")
    return {"table": str(path), "input": input_hw, "rows": [
        {"row": ln.label, "line": ln.line_no, "layers": ln.text, "receptive_field": rows[-1].rf,
         "expected": ln.expected, "matches": None if ln.expected is None else rows[-1].rf == ln.expected,
         "out": rows[-1].out, "flags": sorted({f for r in rows for f in r.flags}),
         **({"measured_rf": m[0], "measured_agrees": m[1]} if m else {})}
        for ln, rows, m in results]}


def run(config: ReceptiveConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Analyse the layer string, the model or the table the config names; the result for --json."""
    if config.model is not None:
        return _run_model(config.model, config.input, recorder)
    hw = parse_input_size(config.input) if config.input is not None else None
    if config.table is not None:
        return _run_table(Path(config.table), hw, config.autograd, recorder)
    specs = parse_layers(config.layers)
    rows = compute(specs, hw)
    measured = _measure_string(specs, rows, hw) if config.autograd else None
    title = f"receptive field per layer{f' (input {hw[0]}x{hw[1]})' if hw else ''}"
    _show_layers(recorder, title, rows, measured, hw is not None)
    _verdict(recorder, rows, all(ok for _, ok in measured) if measured else None)
    return {"layers": config.layers, "input": hw, "receptive_field": rows[-1].rf,
            "receptive_field_text": format_rf(rows[-1].rf),
            "rows": [_row_json(r, measured[r.index] if measured else None) for r in rows]}
