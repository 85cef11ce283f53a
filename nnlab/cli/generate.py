"""Typer commands generated from the experiment registry: each option comes from its config field.

A field declared with `option(default, help, ...)` becomes one `--flag` with that default
and help, in its panel; its choices are named in the help. `--runs-dir` and `--json` come from
nnlab.cli.options. Commands whose names share a first word ("kmeans", "kmeans eta") form a
group whose callback is the bare command.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Union, get_args, get_origin, get_type_hints

import typer

from nnlab.cli.options import EXPERIMENTS, TOOLS, JsonOpt, NoImagesOpt, RunsDirOpt
from nnlab.errors import NnlabError
from nnlab.experiments import REGISTRY, Experiment
from nnlab.experiments.base import Spec, spec_of

PANELS = {"experiment": EXPERIMENTS, "tool": TOOLS}
_KIND = inspect.Parameter.KEYWORD_ONLY


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    """(T, True) for Optional[T] / T | None, else (hint, False)."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _is_tuple(hint: Any) -> bool:
    return get_origin(hint) is tuple


def _cli_type(hint: Any, spec: Spec) -> Any:
    """The type Typer parses: paths as Path, tuples as a comma list (options) or a list (arguments)."""
    base, optional = _unwrap_optional(hint)
    if spec.path:
        return Optional[Path]
    if _is_tuple(base):
        return list[get_args(base)[0]] if spec.argument else Optional[str]
    return Optional[base] if optional else base


def _help(spec: Spec) -> str:
    """The help text, naming every choice (appended when the text does not already)."""
    if spec.choices and not all(c in spec.help for c in spec.choices):
        return f"{spec.help} One of: {', '.join(spec.choices)}."
    return spec.help


def _parameter(name: str, hint: Any, spec: Spec, default: Any) -> inspect.Parameter:
    cli_type = _cli_type(hint, spec)
    kwargs: dict[str, Any] = {"help": _help(spec), "rich_help_panel": spec.panel}
    if spec.default_text is not None:
        kwargs["show_default"] = spec.default_text or False
    elif default is None or default is MISSING:
        kwargs["show_default"] = False
    if spec.argument:
        if default is not MISSING:  # an optional argument would show in lower case
            kwargs["metavar"] = name.upper()
        info = typer.Argument(**kwargs)
    else:
        flag = spec.name(name)
        if _unwrap_optional(hint)[0] is bool and spec.negatable and not spec.action:
            flag = f"{flag}/--no-{flag[2:]}"
        info = typer.Option(flag, *([spec.short] if spec.short else []), **kwargs)
    if _is_tuple(_unwrap_optional(hint)[0]) and default not in (None, MISSING) and not spec.argument:
        default = ",".join(map(str, default))
    return inspect.Parameter(name, _KIND, annotation=Annotated[cli_type, info],
                             default=inspect.Parameter.empty if default is MISSING else default)


def config_parameters(config_type: type) -> list[inspect.Parameter]:
    """One parameter per CLI field: the command's own options first, then the common panel."""
    hints = get_type_hints(config_type)
    params = []
    for f in fields(config_type):
        spec = spec_of(f)
        if spec is None or not spec.cli:
            continue
        params.append(_parameter(f.name, hints[f.name], spec, f.default))
    # shared fields (--dataset) after the command's own, then the common panel
    return sorted(params, key=lambda p: (p.default is not inspect.Parameter.empty, _panel_of(p) is not None,
                                         _declared_in_base(config_type, p.name)))


def _declared_in_base(config_type: type, name: str) -> bool:
    return any(name in vars(cls).get("__annotations__", {}) for cls in config_type.__mro__
               if cls.__module__ == Spec.__module__)  # nnlab.experiments.base


def _panel_of(param: inspect.Parameter) -> str | None:
    return get_args(param.annotation)[1].rich_help_panel


def _parse_list(flag: str, text: str, item: type, example: str) -> tuple:
    try:
        return tuple(item(part) for part in text.split(","))
    except ValueError:
        raise NnlabError(f"{flag} must be comma-separated {item.__name__ == 'int' and 'integers' or 'numbers'}"
                         f"{f' such as {example}' if example else ''}, got '{text}'") from None


def config_kwargs(config_type: type, values: dict[str, Any]) -> dict[str, Any]:
    """Typer's values turned into the config's: paths to str, comma lists and lists to tuples."""
    hints = get_type_hints(config_type)
    out = {}
    for f in fields(config_type):
        if f.name not in values:
            continue
        value, spec = values[f.name], spec_of(f)
        base = _unwrap_optional(hints[f.name])[0]
        if value is not None and spec.path:
            value = str(value)
        elif value is not None and _is_tuple(base) and spec.parse is None:  # else the config parses it
            value = tuple(value) if isinstance(value, (list, tuple)) else \
                _parse_list(spec.name(f.name), value, get_args(base)[0], spec.example)
        out[f.name] = value
    return out


def _command(entry: Experiment, group: bool) -> Callable[..., None]:
    """The Typer function for one registered experiment."""
    config_type = entry.config_class()

    def command(**values: Any) -> None:
        ctx = values.pop("ctx", None)
        if ctx is not None and ctx.invoked_subcommand is not None:
            return
        from nnlab.cli.common import build, run_experiment

        runs_dir, json_output = values.pop("runs_dir", None), values.pop("json_output")
        if values.pop("no_images", False):
            values["images"] = "none"
        config = build(lambda **v: config_type(**config_kwargs(config_type, v)), **values)
        run_experiment(entry, config, runs_dir=runs_dir, json_output=json_output)

    params = config_parameters(config_type)
    if entry.records:
        params.append(inspect.Parameter("runs_dir", _KIND, annotation=RunsDirOpt, default=None))
    params.append(inspect.Parameter("json_output", _KIND, annotation=JsonOpt, default=False))
    if any(f.name == "images" for f in fields(config_type)):
        params.append(inspect.Parameter("no_images", _KIND, annotation=NoImagesOpt, default=False))
    if group:
        params.insert(0, inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                           annotation=typer.Context))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = inspect.getdoc(config_type)
    command.__name__ = entry.name.replace(" ", "_").replace("-", "_")
    return command


def register_experiments(app: typer.Typer) -> None:
    """Add every registered experiment to `app`: groups for names that share a first word."""
    groups: dict[str, typer.Typer] = {}
    for name, entry in REGISTRY.items():
        head, _, sub = name.partition(" ")
        has_children = any(other.startswith(head + " ") for other in REGISTRY)
        panel = PANELS[entry.kind]
        if not has_children:
            app.command(name, rich_help_panel=panel)(_command(entry, group=False))
        elif not sub:
            group = groups[head] = typer.Typer(invoke_without_command=True, no_args_is_help=False)
            group.callback()(_command(entry, group=True))
            app.add_typer(group, name=head, rich_help_panel=panel, help=entry.group_help or None)
        else:
            groups[head].command(sub)(_command(entry, group=False))
