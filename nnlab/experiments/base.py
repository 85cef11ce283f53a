"""What every experiment shares: options declared once, validated configs, and one setup.

A config field is declared once with `option(default, help, min=..., choices=...)`; the
CLI generates its flag, its `--help` line and its checks from that one declaration, and
`validate` refuses a bad value with a message naming the flag and the accepted range.

Running an experiment has two steps, so that mistakes never leave a failed run behind:
`preflight(config, store)` resolves the device, seeds, loads the data and checks inputs
(no run exists yet); then the run's `run(config, recorder, setup)` calls
`prepare(config, recorder, setup)`, which warns about a fallback and records the data used.

This module imports no torch at import time: config modules build on it and must stay light.
"""

from __future__ import annotations

import math
import re
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable

from nnlab.core.device import DEVICE_CHOICES
from nnlab.errors import NnlabError

if TYPE_CHECKING:
    from nnlab.runs.recorder import Recorder
    from nnlab.runs.store import RunStore

SPEC_KEY = "nnlab"
COMMON = "Common options"
DATASETS = ("mnist", "fashion-mnist", "digits")
IMAGE_MODES = ("auto", "kitty", "sixel", "halfblock", "none")
MAX_SEED = 2**32 - 1  # numpy's seed range, the narrowest of the generators seeded
MAX_EPOCHS = 1_000_000
MAX_BATCH = 65_536


@dataclass(frozen=True)
class Spec:
    """How one config field meets the user: its flag, help, and the values it accepts."""

    help: str
    flag: str | None = None  # default: --field-name; booleans get --name/--no-name if `negatable`
    short: str | None = None  # e.g. "-o"
    min: float | None = None
    max: float | None = None
    min_open: bool = False  # True: min itself is refused (">"), else accepted (">=")
    max_open: bool = False
    choices: tuple[str, ...] | None = None
    pattern: str | None = None  # a regex also accepted besides `choices` (e.g. cuda:N)
    aliases: dict[str, str] | None = None  # accepted spellings mapped to a choice (cheat -> exemplar)
    max_items: int | None = None  # for tuple fields: at most this many entries
    panel: str | None = None  # the --help panel; None: the command's own options
    default_text: str | None = None  # shown as the default instead of the value
    negatable: bool = True
    path: bool = False  # a file or folder: the CLI takes a path, the config keeps a str
    argument: bool = False  # positional on the command line
    cli: bool = True  # False: a config-only field (not a flag)
    example: str = ""  # for comma-separated lists: how one looks
    action: bool = False  # a flag that does something instead of a run (e.g. --summary): not recorded
    parse: Callable[[Any], Any] | None = None  # text or tuple -> the checked value (instead of a comma split)

    def name(self, field_name: str) -> str:
        """The flag as users type it (without the negative form)."""
        return self.flag or "--" + field_name.replace("_", "-")


def option(default: Any = MISSING, help: str = "", **spec: Any) -> Any:
    """A config field declared once: its default, its help text and its valid values.

    `spec` takes Spec's fields: min/max (with min_open/max_open), choices, aliases, flag,
    panel, default_text, max_items, path, argument, cli, example.
    """
    kwargs: dict[str, Any] = {"metadata": {SPEC_KEY: Spec(help, **spec)}}
    if isinstance(default, (list, dict, set)):
        raise TypeError("config defaults must be immutable (use a tuple)")
    if default is not MISSING:
        kwargs["default"] = default
    return field(**kwargs)


def spec_of(f: Field) -> Spec | None:
    """The Spec a field was declared with, or None for a plain field."""
    return f.metadata.get(SPEC_KEY)


def flag_of(config_type: type, name: str) -> str:
    """The flag of field `name`, for messages written by hand."""
    spec = next((spec_of(f) for f in fields(config_type) if f.name == name), None)
    return spec.name(name) if spec else "--" + name.replace("_", "-")


# ---- validation -------------------------------------------------------------------------

def range_text(spec: Spec) -> str:
    """The accepted range in words: "at least 1", "at least 1 and at most 256", "positive and at most 10"."""
    lo, hi = spec.min, spec.max
    low = None if lo is None else (("positive" if lo == 0 else f"greater than {lo:g}") if spec.min_open
                                    else f"at least {lo:g}")
    high = None if hi is None else (f"less than {hi:g}" if spec.max_open else f"at most {hi:g}")
    if spec.min_open and spec.max_open and lo is not None and hi is not None:
        return f"strictly between {lo:g} and {hi:g}"
    if low and high:
        return f"{low} and {high}"
    return low or high or "any finite number"


def _shown(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: repr, cut short (a flag or run.json can hold megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _check_number(flag: str, spec: Spec, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NnlabError(f"{flag} must be a number, got {_shown(value)}")
    if not math.isfinite(value):
        raise NnlabError(f"{flag} must be a finite number ({range_text(spec)}), got {value}")
    lo, hi = spec.min, spec.max
    too_low = lo is not None and (value <= lo if spec.min_open else value < lo)
    too_high = hi is not None and (value >= hi if spec.max_open else value > hi)
    if too_low or too_high:
        raise NnlabError(f"{flag} must be {range_text(spec)}, got {value:g}")


def _check_choice(flag: str, spec: Spec, value: Any) -> None:
    if value in spec.choices or (spec.pattern and isinstance(value, str) and re.fullmatch(spec.pattern, value)):
        return
    names = [f"{c} (alias {', '.join(a for a, t in (spec.aliases or {}).items() if t == c)})"
             if c in (spec.aliases or {}).values() else c for c in spec.choices]
    shown = f"'{value}'" if isinstance(value, str) and len(value) <= 60 else _shown(value)
    raise NnlabError(f"unknown {flag} {shown}; choose one of {', '.join(names)}")


def _check_type(flag: str, default: Any, value: Any) -> None:
    """A value of the default's kind (an int where a float goes is fine): run.json can hold anything."""
    if default is MISSING or default is None:
        return
    kind = type(default)
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        what = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(kind, kind.__name__)
        raise NnlabError(f"{flag} must be {what}, got {_shown(value)}")


def validate(config: Any) -> None:
    """Check every declared field of `config`; aliases are replaced by what they stand for."""
    for f in fields(config):
        spec = spec_of(f)
        value = getattr(config, f.name)
        if spec is None or value is None:
            continue
        flag = spec.name(f.name)
        if spec.parse is not None:
            value = spec.parse(value)
            object.__setattr__(config, f.name, value)
        if spec.aliases and value in spec.aliases:
            value = spec.aliases[value]
            object.__setattr__(config, f.name, value)
        _check_type(flag, f.default, value)
        if spec.choices is not None:
            _check_choice(flag, spec, value)
        elif isinstance(value, tuple):
            if spec.max_items is not None and len(value) > spec.max_items:
                raise NnlabError(f"{flag} takes at most {spec.max_items} entries, got {len(value)}")
            if spec.min is not None or spec.max is not None:
                for item in value:
                    _check_number(flag, spec, item)
        elif spec.min is not None or spec.max is not None:
            _check_number(flag, spec, value)


@dataclass(frozen=True, kw_only=True)
class Config:
    """Base of every experiment's config: fields are checked when it is built."""

    def __post_init__(self) -> None:
        validate(self)
        self.check()

    def check(self) -> None:
        """Checks across fields (one flag against another); override where needed."""


# ---- the options many experiments share, declared once ----------------------------------

@dataclass(frozen=True, kw_only=True)
class Seeded(Config):
    """A config with a seed."""

    seed: int = option(0, "Seed for initialisation and data order; same seed, same numbers.",
                       min=0, max=MAX_SEED, panel=COMMON)


@dataclass(frozen=True, kw_only=True)
class OnDevice(Config):
    """A config that computes on a device."""

    device: str = option("auto", "auto, cpu, cuda or mps (auto: CUDA, then MPS, then CPU).",
                         choices=DEVICE_CHOICES, pattern=r"cuda:\d{1,3}", panel=COMMON)


@dataclass(frozen=True, kw_only=True)
class Shown(Config):
    """A config whose run draws images in the terminal."""

    images: str = option("auto", "How to draw images: auto (the terminal's best), kitty, sixel, halfblock, "
                         "or none (a line naming the PNG).", choices=IMAGE_MODES, panel=COMMON)


def dataset_option(default: str | None, help: str = "mnist, fashion-mnist or digits (embedded, offline).",
                   **spec: Any) -> Any:
    """The --dataset field, with the default that suits the experiment."""
    return option(default, help, choices=DATASETS, **spec)


def data_dir_option(help: str = "Dataset folder \\[default: $NNLAB_DATA, else ~/.cache/nnlab/data].") -> Any:
    """The --data-dir field (its help can say where else the data comes from)."""
    return option(None, help, path=True, panel=COMMON, default_text="")


@dataclass(frozen=True, kw_only=True)
class CommonConfig(Shown, OnDevice, Seeded):
    """What every experiment on a dataset shares: seed, device, data, fallback, images."""

    dataset: str | None = dataset_option("mnist")
    data_dir: str | None = data_dir_option()
    fallback: bool = option(True, "If MNIST cannot be had, warn and use the embedded digits dataset.",
                            panel=COMMON)


# ---- running: preflight before the run exists, prepare inside it ------------------------

@dataclass
class Setup:
    """What preflight found: the config to record, the device, the data order, the data."""

    config: Any
    device: Any = None  # torch.device, or None for device-free experiments
    generator: Any = None  # CPU torch.Generator seeded from config.seed
    data: Any = None  # nnlab.core.data.Dataset, or None
    extras: dict = field(default_factory=dict)  # what a family's own preflight found (inputs, models)

    @property
    def device_name(self) -> str | None:
        """The device as run.json records it."""
        if self.device is None:
            return None
        from nnlab.core.device import describe_device

        return describe_device(self.device)


def preflight(config: Any, store: "RunStore | None" = None) -> Setup:
    """Resolve the device, seed every generator and load the data; raise NnlabError on a mistake.

    Runs before the run directory exists, so missing data or a wrong device leaves no run.
    """
    device = generator = data = None
    if isinstance(config, OnDevice):
        from nnlab.core.device import resolve_device

        device = resolve_device(config.device)
    if isinstance(config, Seeded):
        from nnlab.core.device import seed_everything

        generator = seed_everything(config.seed)
    if isinstance(config, CommonConfig):
        from nnlab.core.data import load_dataset

        data = load_dataset(config.dataset, config.data_dir, device=device or "cpu", fallback=config.fallback)
    return Setup(config, device, generator, data)


def prepare(config: Any, recorder: "Recorder", setup: Setup | None = None,
            preflight_fn: Callable[..., Setup] = preflight) -> Setup:
    """The start of every run: preflight (unless the CLI did it already), then the fallback
    warning and the data actually used, recorded in run.json."""
    setup = setup if setup is not None else preflight_fn(config)
    data = setup.data
    if data is not None:
        if data.fallback_reason:
            recorder.warn(f"MNIST cannot be had: {data.fallback_reason}\n"
                          "Using the embedded 'digits' dataset (scikit-learn's 8x8 digits at 28x28) instead.")
        recorder.update_run(dataset=data.name, data_source=data.source, fallback_reason=data.fallback_reason)
        recorder.info(f"{data.name}: {len(data.train):,} training and {len(data.test):,} test images "
                      f"on {setup.device}")
    return setup


def action_requested(config: Any) -> str | None:
    """The name of the action flag set in `config` (e.g. "summary"), or None for a normal run."""
    return next((f.name for f in fields(config) if spec_of(f) and spec_of(f).action and getattr(config, f.name)),
                None)


def config_values(config: Any) -> dict[str, Any]:
    """The config as run.json records it (tuples become lists there; action flags are left out)."""
    return {f.name: getattr(config, f.name) for f in fields(config) if not (spec_of(f) and spec_of(f).action)}
