"""`nnlab receptive`: receptive fields of a layer string, of nnlab's own models, or of a whole table.

A pure calculator: instant, nothing recorded. torch is imported only for --model and --check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnlab.cli.common import fail, make_console, print_json, user_errors
from nnlab.cli.options import TOOLS, JsonOpt
from nnlab.tools.receptive import (LayerRow, ReceptiveParseError, compute, format_rf, parse,
                                   parse_input_size, parse_table)


MAX_CHECK_SIZE = 4096  # a one-channel float64 image this size is 128 MiB per layer


def _pair(p) -> str:
    """(3, 3) -> "3", (3, 5) -> "3x5", floats without trailing zeros."""
    if p is None:
        return ""
    a, b = (f"{v:g}" for v in p)
    return a if a == b else f"{a}x{b}"


def _parse_or_exit(text: str, where: str = ""):
    try:
        return parse(text)
    except ReceptiveParseError as exc:
        err = Console(stderr=True, highlight=False)
        err.print(f"[bold red]error:[/] {escape(where)}{escape(exc.message)} (column {exc.position + 1})",
                  soft_wrap=True)
        for line in exc.caret().splitlines():
            err.print("  " + escape(line), soft_wrap=True)
        raise typer.Exit(2) from None


def _row_json(r: LayerRow, measured=None) -> dict[str, Any]:
    s = r.spec
    row = {"index": r.index + 1, "layer": s.label, "kind": s.kind, "kernel": s.kernel, "stride": s.stride,
           "padding": s.padding, "dilation": s.dilation, "ceil_mode": s.ceil_mode, "jump": r.jump,
           "rf": r.rf, "start": r.start, "out": r.out, "flags": list(r.flags)}
    if measured is not None:
        row["measured_rf"] = measured[0]
        row["measured_agrees"] = measured[1]
    return row


def _layer_table(title: str, rows: list[LayerRow], measured: list | None, show_out: bool) -> Table:
    table = Table(title=title, title_justify="left", caption_justify="left")
    cols = ["#", "layer", "k", "s", "p", "d", "jump", "RF", "start"]
    cols += ["out"] if show_out else []
    cols += ["measured"] if measured is not None else []
    for i, c in enumerate(cols):
        table.add_column(c, justify="left" if c in ("#", "layer") else "right", overflow="fold")
    table.add_column("flags", style="red", overflow="fold")
    for r in rows:
        s = r.spec
        geo = [_pair(s.kernel), _pair(s.stride), _pair(s.padding), _pair(s.dilation)] if s.kind != "global" else [""] * 4
        cells = [str(r.index + 1), escape(s.label)] + geo + [
            _pair(r.jump) if r.rf else "", format_rf(r.rf) if r.rf else _whole(r), _pair(r.start) if r.rf else ""]
        if show_out:
            cells.append(_pair(r.out) if s.kind != "global" else "")
        if measured is not None:
            extent, ok = measured[r.index]
            cells.append(f"{format_rf(extent)} {'[green]✓[/]' if ok else '[red]✗[/]'}")
        table.add_row(*cells, "; ".join(r.flags))
    return table


def _whole(r: LayerRow) -> str:
    """A global layer's field: the whole input, or the part strided layers before it reach."""
    if r.covered is None:
        return "whole"
    (r0, r1), (c0, c1) = r.covered
    return f"{r1 - r0 + 1} x {c1 - c0 + 1}"


def _measure_string(specs, rows, hw):
    """Autograd check of a layer string: a 1-channel module with the specs' geometry."""
    from nnlab.tools.receptive_model import measure_layers, specs_to_module

    if hw is None:  # no size given: one large enough for the centre unit's whole field
        last = rows[-1]
        n = 3 * max(last.rf) + 4 * max(last.jump) + 4
        if n > MAX_CHECK_SIZE:
            fail(f"--check: a {format_rf(last.rf)} field needs a {n}x{n} input to measure; "
                 f"give --input of at most {MAX_CHECK_SIZE} to measure a clipped field instead")
        hw = (n, n)
        rows = compute(specs, hw)
    if min(rows[-1].out) < 1:
        fail("--check needs a non-empty output; enlarge --input")
    if max(hw) > MAX_CHECK_SIZE:
        fail(f"--check measures inputs of at most {MAX_CHECK_SIZE}x{MAX_CHECK_SIZE}; got {hw[0]}x{hw[1]}")
    return _compare(rows, measure_layers(specs_to_module(specs), (1, *hw)), hw)


def _compare(rows, found, hw):
    from nnlab.tools.receptive_model import expected_box

    out = []
    for r, m in zip(rows, found):
        box = expected_box(rows[:r.index + 1], hw, m.unit)
        out.append((m.extent, (m.rows, m.cols) == box))
    return out


def _run_model(name: str, input_hw: Optional[str], json_output: bool, console: Console) -> None:
    from nnlab.tools.receptive_model import measure_layers, walk
    from nnlab.tools.receptive_zoo import registered_models

    models = registered_models()
    if name not in models:
        fail(f"unknown --model {name!r}; registered: {', '.join(models) or 'none'}")
    entry = models[name]
    c, h, w = entry.input_shape
    hw = parse_input_size(input_hw) if input_hw else (h, w)
    if max(hw) > MAX_CHECK_SIZE:
        fail(f"--model runs the network on its input: at most {MAX_CHECK_SIZE}x{MAX_CHECK_SIZE}, got {hw[0]}x{hw[1]}")
    with user_errors():
        model = entry.factory()
        specs = walk(model, (c, *hw))
        rows = compute(specs, hw)
        measured = _compare(rows, measure_layers(model, (c, *hw)), hw)
    agree = all(ok for _, ok in measured)
    if json_output:
        print_json({"model": name, "input": [c, *hw], "rows": [_row_json(r, m) for r, m in zip(rows, measured)],
                    "receptive_field": rows[-1].rf, "analytic_and_autograd_agree": agree})
        return
    console.print(_layer_table(f"{name}: {entry.description} (input {c}x{hw[0]}x{hw[1]})", rows, measured, True))
    _verdict(console, rows, agree)


def _verdict(console: Console, rows: list[LayerRow], agree: bool | None) -> None:
    last = rows[-1]
    console.print(f"receptive field: [bold]{format_rf(last.rf)}[/]"
                  + (f" ({_whole(last)} of it is ever read)" if last.rf is None and _whole(last) != "whole" else ""))
    if agree is True:
        console.print("[green]autograd agrees[/]: each layer's measured box is the analytic field "
                      "(clipped to the input)")
    elif agree is False:
        console.print("[red]autograd disagrees[/] on rows marked ✗: the forward pass does something the "
                      "layer walk cannot see (functional pooling, skips, reshapes)")


def _run_table(path: Path, input_hw, check: bool, json_output: bool, console: Console) -> None:
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--table: cannot read {path}: {exc.strerror if isinstance(exc, OSError) else 'not a text file'}")
    lines = parse_table(content)
    if not lines:
        fail(f"--table: {path} has no layer strings (one per line, # for comments)")
    results = []
    for line in lines:
        specs = _parse_or_exit(line.text, f"{path}:{line.line_no}: ")
        rows = compute(specs, input_hw)
        measured = _measure_string(specs, compute(specs), None)[-1] if check else None
        results.append((line, rows, measured))
    if json_output:
        print_json({"table": str(path), "input": input_hw, "rows": [
            {"row": ln.label, "line": ln.line_no, "layers": ln.text, "receptive_field": rows[-1].rf,
             "expected": ln.expected, "matches": None if ln.expected is None else rows[-1].rf == ln.expected,
             "out": rows[-1].out, "flags": sorted({f for r in rows for f in r.flags}),
             **({"measured_rf": m[0], "measured_agrees": m[1]} if m else {})}
            for ln, rows, m in results]})
        return
    table = Table(title=f"receptive fields, one row per line of {path.name}", title_justify="left")
    for c in (("row", "layers", "receptive field") + (("out",) if input_hw else ())
              + (("autograd",) if check else ()) + ("given", "")):
        table.add_column(c, justify="left" if c in ("row", "layers") else "right", overflow="fold")
    wrong = 0
    for ln, rows, measured in results:
        rf = rows[-1].rf
        given = "" if ln.expected is None else format_rf(ln.expected)
        mark = "" if ln.expected is None else ("[green]✓[/]" if rf == ln.expected else "[red]✗[/]")
        wrong += bool(ln.expected is not None and rf != ln.expected)
        flags = sorted({f for r in rows for f in r.flags})
        extra = (_pair(rows[-1].out),) if input_hw else ()
        if measured:
            extra += (f"{format_rf(measured[0])} {'[green]✓[/]' if measured[1] else '[red]✗[/]'}",)
        table.add_row(ln.label, escape(" ".join(ln.text.split())) + (f" [red]({'; '.join(flags)})[/]" if flags else ""),
                      f"[bold]{format_rf(rf)}[/]", *extra, given, mark)
    console.print(table)
    if wrong:
        console.print(f"[red]{wrong} row(s) differ from the value given in the file[/]")


def receptive(
    layers: Annotated[Optional[str], typer.Argument(help='Layer string, e.g. "conv(3,1) conv(3,1) pool(2,2)". '
                                                    "Forms: conv(k,s[,p[,d]]), conv(k=3, s=2, p=1), "
                                                    "pool/maxpool/avgpool(k,s[,p]), conv2d, maxpool2d, 3x5 kernels.",
                                                    show_default=False)] = None,
    input_size: Annotated[Optional[str], typer.Option("--input", help="Input size H or HxW: adds each layer's output size.",
                                                      show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Walk one of nnlab's models instead (see --list-models); "
                                                 "checked against autograd.", show_default=False)] = None,
    table_file: Annotated[Optional[Path], typer.Option("--table", help="A file with one layer string per line "
                                                       "(optionally 'N  layers  8 x 8' as in the assignment); one row each.",
                                                       show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="Also measure the fields with autograd on a "
                                        "1-channel copy of the stack (layer strings and --table).")] = False,
    list_models: Annotated[bool, typer.Option("--list-models", help="List the models --model accepts.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Receptive field, jump, start and output size of each layer of a conv/pool stack."""
    console = make_console(json_output)
    if list_models:
        from nnlab.tools.receptive_zoo import registered_models

        models = registered_models()
        if json_output:
            print_json({"models": {n: {"input": e.input_shape, "description": e.description} for n, e in models.items()}})
        else:
            for n, e in models.items():
                console.print(f"[bold]{n}[/]  input {'x'.join(map(str, e.input_shape))}  {escape(e.description)}")
        return
    given = [x is not None for x in (layers, model, table_file)]
    if sum(given) != 1:
        fail('give exactly one of: a layer string ("conv(3,1) pool(2,2)"), --model NAME or --table FILE')
    with user_errors():
        hw = parse_input_size(input_size) if input_size is not None else None
    if model is not None:
        return _run_model(model, input_size, json_output, console)
    if table_file is not None:
        return _run_table(table_file, hw, check, json_output, console)
    specs = _parse_or_exit(layers)
    rows = compute(specs, hw)
    measured = _measure_string(specs, rows, hw) if check else None
    if json_output:
        print_json({"layers": layers, "input": hw, "receptive_field": rows[-1].rf,
                    "receptive_field_text": format_rf(rows[-1].rf),
                    "rows": [_row_json(r, measured[r.index] if measured else None) for r in rows]})
        return
    title = f"receptive field per layer{f' (input {hw[0]}x{hw[1]})' if hw else ''}"
    console.print(_layer_table(title, rows, measured, hw is not None))
    _verdict(console, rows, all(ok for _, ok in measured) if measured else None)


def register(app: typer.Typer) -> None:
    """Join `receptive` to the app."""
    app.command("receptive", rich_help_panel=TOOLS)(receptive)
