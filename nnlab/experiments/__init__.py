"""Every experiment nnlab can run, one registration line each, imported only when used.

An entry names a command, the family package that implements it, and the names of its
config class and run function. `nnlab.experiments.<family>.config` is light (no torch) and
holds the Config; `nnlab.experiments.<family>.run` holds `run(config, recorder, setup=None)`
and, optionally, `preflight(config, store) -> Setup` (default: `base.preflight`).

The CLI generates one command per entry; `nnlab runs rerun` rebuilds a config from a run's
run.json with `config_from_run`; `launch` runs an entry as a recorded (child) run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Callable, get_type_hints

from nnlab.errors import NnlabError

if TYPE_CHECKING:
    from nnlab.experiments.base import Setup
    from nnlab.runs.recorder import Recorder
    from nnlab.runs.store import RunStore, RunWriter


@dataclass(frozen=True)
class Experiment:
    """One command: `name` (may hold a space: "kmeans eta"), its family, config class and run function."""

    name: str
    family: str
    config: str  # class name in nnlab.experiments.<family>.config
    run: str = "run"  # function name in the run module
    module: str = "run"  # the run module: nnlab.experiments.<family>.<module>
    kind: str = "experiment"  # experiment or tool: the --help panel
    group_help: str = ""  # for a command with subcommands: the line shown in `nnlab --help`
    preflight: str = "preflight"  # function name in the run module, if it defines one
    records: bool = True  # False: a calculator that prints its answer and keeps no run

    def config_class(self) -> type:
        """The Config dataclass (imports only the light config module)."""
        return getattr(importlib.import_module(f"nnlab.experiments.{self.family}.config"), self.config)

    def run_module(self) -> Any:
        """The module holding the run function (imports torch)."""
        return importlib.import_module(f"nnlab.experiments.{self.family}.{self.module}")

    def runner(self) -> Callable[..., dict]:
        """`run(config, recorder, setup=None) -> result dict`."""
        return getattr(self.run_module(), self.run)

    def preflighter(self) -> Callable[..., "Setup"]:
        """`preflight(config, store) -> Setup`: the family's own, else the shared one."""
        from nnlab.experiments import base

        return getattr(self.run_module(), self.preflight, base.preflight)


REGISTRY: dict[str, Experiment] = {e.name: e for e in (
    Experiment("kmeans", "kmeans", "KMeansConfig",
               group_help="k-means as a network (question 1); `kmeans eta` for its learning rate."),
    Experiment("kmeans eta", "kmeans", "EtaConfig", module="eta"),
    Experiment("ae", "autoencoders", "AEConfig", group_help="Dense autoencoders (mlp4, shallow, funnel, linear, "
               "custom); `ae cluster RUN` for k-means in latent space, `ae corrupt-demo` for P5.2."),
    Experiment("ae cluster", "autoencoders", "ClusterConfig", "run_cluster", "latent", preflight="preflight_cluster"),
    Experiment("cae", "autoencoders", "CAEConfig", group_help="Convolutional autoencoders (pool, skip, denoising, "
               "strided, funnel, generative, vae); `cae generate RUN`."),
    Experiment("cae generate", "autoencoders", "GenerateConfig", "run_generate", "latent",
               preflight="preflight_generate"),
    Experiment("cae cluster", "autoencoders", "ClusterConfig", "run_cluster", "latent", preflight="preflight_cluster"),
    Experiment("cnn", "classifiers", "CNNConfig", module="cnn"),
    Experiment("mlp", "classifiers", "MLPConfig", module="mlp",
               group_help="Fashion-MNIST MLP (problem 2); `mlp tune` searches its hyper-parameters."),
    Experiment("mlp tune", "classifiers", "TuneConfig", module="tune"),
    Experiment("landscape", "landscape", "LandscapeConfig"),
    Experiment("cifar", "cifar", "CifarConfig"),
    Experiment("backprop", "backprop", "BackpropConfig", kind="tool"),
    Experiment("init", "initialization", "InitConfig"),
    Experiment("ae corrupt-demo", "corruption", "CorruptConfig"),
    Experiment("adam", "adam", "AdamConfig", kind="tool", group_help="A 1-D optimizer lab: gd, momentum, Adam step "
               "by step (question 1); `adam escape` for the bump."),
    Experiment("adam escape", "adam", "EscapeConfig", "run_escape", kind="tool"),
    Experiment("ops-check", "ops_check", "OpsCheckConfig", kind="tool"),
    Experiment("receptive", "receptive", "ReceptiveConfig", kind="tool", records=False),
)}


def get(name: str) -> Experiment:
    """The registered experiment called `name`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise NnlabError(f"no experiment called `{name}`; known: {', '.join(sorted(REGISTRY))}") from None


def config_from_run(command: str, values: dict[str, Any], *, strict: bool = True) -> Any:
    """Rebuild the config a run recorded in run.json's `config` for `command`.

    A field the config no longer has (unless not `strict`: then it is ignored), or a value it
    no longer accepts, is an NnlabError naming it; JSON lists become the tuples the config holds.
    """
    cls = get(command).config_class()
    if not isinstance(values, dict):
        raise NnlabError(f"the run's config is a {type(values).__name__}, not an object")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    values = {k: v for k, v in values.items() if k in known}
    if unknown and strict:
        raise NnlabError(f"the run's config has field(s) `{command}` no longer takes: {', '.join(unknown)}; "
                         "it was recorded by another version of nnlab")
    hints = get_type_hints(cls)
    converted = {k: tuple(v) if isinstance(v, list) and "tuple" in str(hints.get(k, "")) else v
                 for k, v in values.items()}
    try:
        return cls(**converted)
    except TypeError as exc:
        raise NnlabError(f"the run's config does not fit `{command}`: {exc}") from None


@dataclass
class Started:
    """A run that passed preflight and exists on disk: call `run(recorder)` inside `with writer:`."""

    entry: Experiment
    setup: "Setup"
    writer: "RunWriter"

    def run(self, recorder: "Recorder") -> dict:
        """Run the experiment on the prepared setup; returns its result dict."""
        return self.entry.runner()(self.setup.config, recorder, self.setup)


def begin(name: str, config: Any, store: "RunStore", *, parent: str | None = None,
          argv: list[str] | None = None) -> Started:
    """Preflight `config`, then create its run directory.

    A usage error or missing data raises NnlabError here, before any run directory exists.
    """
    from nnlab.experiments.base import config_values

    entry = get(name)
    setup = entry.preflighter()(config, store)
    writer = store.create(name, config_values(setup.config), argv=argv, seed=getattr(setup.config, "seed", None),
                          device=setup.device_name, parent=parent)
    return Started(entry, setup, writer)


def launch(name: str, config: Any, recorder_for: Callable[["RunWriter", "RunStore"], "Recorder"],
           store: "RunStore", *, parent: str | None = None, argv: list[str] | None = None
           ) -> tuple["RunWriter", dict]:
    """Run experiment `name` with `config` as a recorded run (a child of `parent`, if given).

    `recorder_for(writer, store)` gives the run's recorder. The writer marks the run
    completed, failed or interrupted as it ends; exceptions propagate to the caller.
    """
    started = begin(name, config, store, parent=parent, argv=argv)
    with started.writer:
        result = started.run(recorder_for(started.writer, store))
    return started.writer, result
