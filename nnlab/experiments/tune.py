"""`nnlab mlp tune`: an Optuna search over the MLP's hyper-parameters, chosen on validation accuracy.

Every trial trains on the same seeded training/validation split and never sees the test
set; it is recorded as a child run of the sweep's run. The study may live in a shared
storage (`--storage sqlite:///tune.db`, or PostgreSQL across machines): each worker then
pulls trials from it until the study holds `--trials` of them, so workers started with
the same command split the trials between them.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import socket
import time
from dataclasses import asdict, dataclass, fields

import torch

from nnlab.core.device import resolve_device
from nnlab.core.models.classifiers import MLP_VARIANTS
from nnlab.core.train import Callback, EpochResult, TrainState
from nnlab.errors import NnlabError
from nnlab.experiments.classifiers import DATASETS, MLPConfig, load, report_screenshot, train_mlp
from nnlab.runs.recorder import LiveTable, Recorder

SAMPLERS = ("grid", "random", "tpe")
CREATE_ATTEMPTS = 5
# (field, type, lower bound, lower bound allowed?) of each searched hyper-parameter
SPACE = {"layers": (int, 1, True), "units": (int, 1, True), "lr": (float, 0.0, False),
         "batch_size": (int, 1, True), "epochs": (int, 1, True), "l2": (float, 0.0, True)}
FLAGS = {"layers": "--layers", "units": "--units", "lr": "--lr", "batch_size": "--batch-size",
         "epochs": "--epochs", "l2": "--l2"}


def parse_choices(name: str, value: str | tuple) -> tuple:
    """'3,4,5' (or a tuple) -> the sorted distinct choices of `name`, each checked against its bound."""
    kind, low, inclusive = SPACE[name]
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
    if not items:
        raise NnlabError(f"empty search space: {FLAGS[name]} has no values (give a comma-separated list)")
    try:
        choices = sorted({kind(v) for v in items})
    except ValueError:
        raise NnlabError(f"{FLAGS[name]} takes comma-separated {kind.__name__}s, got {value!r}") from None
    for v in choices:
        if (v < low if inclusive else v <= low) or (kind is float and not math.isfinite(v)):
            bound = f"at least {low}" if inclusive else f"greater than {low}"
            raise NnlabError(f"inconsistent search space: {FLAGS[name]} value {v} must be {bound}")
    return tuple(choices)


@dataclass(frozen=True)
class TuneConfig:
    """Settings of `nnlab mlp tune`; the space holds the assignment's suggestions."""

    trials: int = 12  # total in the study, over all workers sharing it
    sampler: str = "tpe"
    layers: tuple[int, ...] = (3, 4, 5)
    units: tuple[int, ...] = (30, 40, 50)
    lr: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02)  # with momentum 0.9, 0.05 and 0.1 diverge
    batch_size: tuple[int, ...] = (16, 32, 64, 128, 256)
    epochs: tuple[int, ...] = (10, 20)
    l2: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3)
    momentum: float = 0.9
    variant: str = "base"
    val_fraction: float = 0.1
    storage: str | None = None  # an Optuna storage URL; None keeps the study in memory
    study_name: str = "mlp-tune"
    retrain: bool = True  # re-train the best setting and report its test accuracy
    dataset: str = "fashion-mnist"
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None

    def __post_init__(self):
        for name in SPACE:
            object.__setattr__(self, name, parse_choices(name, getattr(self, name)))
        if self.trials < 1:
            raise NnlabError(f"--trials must be at least 1, got {self.trials}")
        if self.sampler not in SAMPLERS:
            raise NnlabError(f"unknown --sampler '{self.sampler}'; choose one of {', '.join(SAMPLERS)}")
        if self.sampler == "grid" and self.grid_size() < self.trials:
            raise NnlabError(f"inconsistent search space: the grid holds {self.grid_size()} settings but --trials "
                             f"asks for {self.trials}; widen the space or lower --trials")
        if self.variant not in MLP_VARIANTS:
            raise NnlabError(f"unknown --variant '{self.variant}'; choose one of {', '.join(MLP_VARIANTS)}")
        if self.dataset not in DATASETS:
            raise NnlabError(f"unknown --dataset '{self.dataset}'; choose one of {', '.join(DATASETS)}")
        if not 0 < self.val_fraction < 1:
            raise NnlabError(f"--val-fraction must be strictly between 0 and 1, got {self.val_fraction}")
        if not 0 <= self.momentum < 1:
            raise NnlabError(f"--momentum must be in [0, 1), got {self.momentum}")
        if not self.study_name.strip():
            raise NnlabError("--study-name must not be empty")

    def space(self) -> dict[str, tuple]:
        """The searched hyper-parameters and their choices."""
        return {name: getattr(self, name) for name in SPACE}

    def grid_size(self) -> int:
        """How many settings the full grid holds."""
        return math.prod(len(v) for v in self.space().values())

    def mlp(self, params: dict) -> MLPConfig:
        """The MLP config of one setting."""
        shared = {f.name: getattr(self, f.name) for f in fields(MLPConfig) if f.name not in SPACE and hasattr(self, f.name)}
        return MLPConfig(**shared, **params)


# ---- optuna plumbing ---------------------------------------------------------------------

def open_storage(url: str | None):
    """The Optuna storage behind `url` (None: in memory); any failure to open it is a usage error."""
    import optuna

    if url is None:
        return None
    from sqlalchemy.exc import IntegrityError, OperationalError

    # SQLite serialises writers with a file lock: wait for it rather than fail under two workers
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
        except (IntegrityError, OperationalError) as exc:
            # workers starting together on a new database race to create its schema; the
            # loser finds the tables there when it tries again
            racing = isinstance(exc, IntegrityError) or "already exists" in str(exc)
            if not racing:
                raise NnlabError(f"cannot open --storage '{url}': {_first_line(exc)}") from None
            if attempt == CREATE_ATTEMPTS - 1:
                raise NnlabError(f"cannot open --storage '{url}': its schema is being created by "
                                 "another process and never became ready") from None
            time.sleep(0.5 * (attempt + 1))
        except Exception as exc:  # SQLAlchemy and drivers raise many types; all mean "cannot open"
            raise NnlabError(f"cannot open --storage '{url}': {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def numbered_grid_sampler(space: dict[str, tuple], seed: int):
    """An Optuna sampler that gives trial k the k-th setting of a seeded shuffle of the full grid.

    Optuna's GridSampler can hand one grid point to two workers that ask at the same moment
    (seen with two SQLite workers). Trial numbers are assigned by the storage, one per trial,
    so indexing the grid by them splits it between workers with no repeats; every worker
    shuffles with the same seed, so they agree on the order.
    """
    import optuna

    names = list(space)
    settings = [dict(zip(names, values)) for values in itertools.product(*(space[n] for n in names))]
    random.Random(seed).shuffle(settings)

    class NumberedGrid(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            return settings[trial.number % len(settings)][param_name]

    return NumberedGrid()


def make_sampler(config: TuneConfig):
    """The sampler; random and TPE workers sharing a storage get distinct seeds, so they do not propose alike."""
    import optuna

    if config.sampler == "grid":
        return numbered_grid_sampler(config.space(), config.seed)
    seed = config.seed if config.storage is None else hash((config.seed, os.getpid())) % 2**31
    if config.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, config.trials))


COLUMNS = ["trial", "layers", "units", "lr", "batch", "epochs", "l2", "val acc %", "val loss", "s", "worker"]


def _row(number: int, params: dict, val_acc: float | None, val_loss: float | None, seconds: float | None,
         worker: str, status: str = "") -> list:
    acc = f"{100 * val_acc:.2f}" if val_acc is not None else status
    loss = f"{val_loss:.4f}" if val_loss is not None and math.isfinite(val_loss) else "-"
    return [number, params.get("layers"), params.get("units"), params.get("lr"), params.get("batch_size"),
            params.get("epochs"), params.get("l2"), acc, loss, f"{seconds:.0f}" if seconds else "-", worker]


class _Board(Callback):
    """Keeps the live table: the study's finished trials by validation accuracy, plus the running one."""

    def __init__(self, study, live: LiveTable):
        self.study = study
        self.live = live
        self.current: list | None = None

    def start(self, number: int, params: dict, worker: str) -> None:
        self.current = _row(number, params, None, None, None, worker, "running")
        self.redraw()

    def on_epoch_end(self, state: TrainState, result: EpochResult) -> None:
        if self.current is not None:
            self.current[7] = f"ep {result.epoch}: {100 * result.val['acc']:.1f}"
            self.redraw()

    def redraw(self) -> None:
        import optuna

        done = [t for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
        done.sort(key=lambda t: -t.value)
        rows = [_row(t.number, t.params, t.value, t.user_attrs.get("val_loss"), t.user_attrs.get("seconds"),
                     t.user_attrs.get("worker", "?")) for t in done]
        if self.current is not None:
            rows.append(self.current)
        self.live.update(rows, highlight={(0, c) for c in range(len(COLUMNS))} if done else None)


# ---- the run -----------------------------------------------------------------------------

def run(config: TuneConfig, recorder: Recorder) -> dict:
    """Search the space with Optuna, then re-train the best setting and test it once."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the live table replaces its per-trial log
    storage = open_storage(config.storage)
    try:
        study = optuna.create_study(storage=storage, sampler=make_sampler(config), study_name=config.study_name,
                                    direction="maximize", load_if_exists=True)
    except ValueError as exc:  # e.g. an existing study of that name that minimises
        raise NnlabError(f"cannot use study '{config.study_name}': {exc}") from None
    device = resolve_device(config.device)
    data = load(config.dataset, config.data_dir, device, False, recorder)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    recorder.update_run(study=config.study_name, storage=config.storage, worker=worker)
    space = ", ".join(f"{k} {list(v)}" for k, v in config.space().items())
    recorder.info(f"{config.sampler} search over {space}; the study is to hold {config.trials} trials "
                  f"({config.grid_size():,} settings in the grid); choosing on validation accuracy only")

    mine: list[int] = []
    with recorder.live_table(f"study '{config.study_name}': trials by validation accuracy", COLUMNS,
                             caption="highlighted: the best so far; test accuracy is never looked at here") as live:
        board = _Board(study, live)

        def objective(trial: optuna.Trial) -> float:
            if trial.number >= config.trials:  # another worker took the last slot meanwhile
                trial.study.stop()
                raise optuna.TrialPruned("the study already has its trials")
            params = {name: trial.suggest_categorical(name, list(choices)) for name, choices in config.space().items()}
            mlp = config.mlp(params)
            board.start(trial.number, params, str(os.getpid()))
            start = time.perf_counter()
            with recorder.child("mlp tune trial", {**asdict(mlp), "trial": trial.number,
                                                   "study": config.study_name}, seed=config.seed) as child:
                # a silent recorder on the child's run: the live table is the display
                outcome = train_mlp(mlp, data, Recorder(child.run, child.store), use_test=False, callbacks=(board,))
                child.summary({"val_acc": outcome.val_acc, "val_loss": outcome.val_loss, "trial": trial.number})
            seconds = time.perf_counter() - start
            trial.set_user_attr("val_loss", outcome.val_loss)
            trial.set_user_attr("seconds", seconds)
            trial.set_user_attr("worker", str(os.getpid()))
            trial.set_user_attr("run_id", child.run.id if child.run else None)
            mine.append(trial.number)
            recorder.metric("val_acc", outcome.val_acc, step=trial.number, split="val")
            board.current = None
            return outcome.val_acc

        def redraw(study, trial) -> None:
            board.redraw()

        study.optimize(objective, callbacks=[optuna.study.MaxTrialsCallback(config.trials, states=None), redraw])

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    recorder.save_csv("trials.csv", ["trial", *SPACE, "val_acc", "val_loss", "seconds", "worker", "run_id"],
                      [[t.number, *(t.params.get(k) for k in SPACE), t.value, t.user_attrs.get("val_loss"),
                        t.user_attrs.get("seconds"), t.user_attrs.get("worker"), t.user_attrs.get("run_id")]
                       for t in sorted(complete, key=lambda t: t.number)])
    if not complete:
        raise NnlabError(f"study '{config.study_name}' has no completed trial; raise --trials to add some")
    best = study.best_trial
    recorder.info(f"this worker ran {len(mine)} of the study's {len(complete)} completed trials "
                  f"({', '.join(map(str, mine)) or 'none'}); best: trial {best.number} "
                  f"{best.params} at {100 * best.value:.2f}% validation accuracy")
    result = {"study": config.study_name, "completed_trials": len(complete), "my_trials": mine,
              "best_trial": best.number, "best_params": best.params, "best_val_acc": best.value}
    if config.retrain:
        recorder.info("re-training the best setting; the test set is used once, now")
        outcome = train_mlp(config.mlp(best.params), data, recorder)
        torch.save(outcome.model.state_dict(), recorder.artifact("best_model.pt"))
        report_screenshot(recorder, outcome)
        result |= {"retrained_val_acc": outcome.val_acc, "test_acc": outcome.test_acc,
                   "last_losses": [v for _, v in outcome.last_losses]}
    recorder.summary({k: v for k, v in result.items() if k != "my_trials"})
    return result
