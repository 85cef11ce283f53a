"""`nnlab mlp tune`: an Optuna search over the MLP's hyper-parameters, chosen on validation accuracy.

Every trial trains on the same seeded training/validation split and never sees the test
set; it is recorded as a child run of the sweep's run. The study may live in a shared
storage (`--storage sqlite:///tune.db`, or PostgreSQL across machines): each worker then
pulls trials from it until the study holds `--trials` of them, so workers started with
the same command split the trials between them. A trial whose loss becomes NaN or infinite
(problem 2's largest rates with plain SGD) stops early, is pruned with a `diverged` user
attribute and shown as diverged; it counts towards --trials, and the sweep goes on.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import socket
import time
from dataclasses import asdict

import torch

from nnlab.core.study_storage import DIVERGED_ATTR, holds_slot, is_done, open_storage, optimize_to, slot_number
from nnlab.core.train import Callback, EpochResult, TrainState
from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.classifiers.config import SPACE, TuneConfig
from nnlab.experiments.classifiers.mlp import describe_split, report_screenshot, train_mlp, validation_split
from nnlab.runs.recorder import LiveTable, Recorder


# ---- optuna plumbing ---------------------------------------------------------------------

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
            return settings[slot_number(study, trial) % len(settings)][param_name]  # a retry keeps its setting

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
        done = [t for t in self.study.get_trials(deepcopy=False) if is_done(t)]
        done.sort(key=lambda t: (t.value is None, -(t.value or 0), t.number))  # diverged trials last
        rows = [_row(t.number, t.params, t.value, t.user_attrs.get("val_loss"), t.user_attrs.get("seconds"),
                     t.user_attrs.get("worker", "?"), "diverged") for t in done]
        if self.current is not None:
            rows.append(self.current)
        best = done and done[0].value is not None
        self.live.update(rows, highlight={(0, c) for c in range(len(COLUMNS))} if best else None)


# ---- the run -----------------------------------------------------------------------------

def preflight(config: TuneConfig, store=None) -> Setup:
    """Open the study in its storage, load the data and check the split, all before the run exists."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the live table replaces its per-trial log
    storage = open_storage(config.storage)
    try:
        study = optuna.create_study(storage=storage, sampler=make_sampler(config), study_name=config.study_name,
                                    direction="maximize", load_if_exists=True)
    except ValueError as exc:  # e.g. an existing study of that name that minimises
        raise NnlabError(f"cannot use study '{config.study_name}': {exc}") from None
    setup = base.preflight(config, store)
    validation_split(setup.data.train, config.val_fraction, config.seed)
    setup.extras["study"] = study
    return setup


def run(config: TuneConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Search the space with Optuna, then re-train the best setting and test it once.

    Ctrl-C ends the search quietly: the running trial is given up (pruned, so its slot goes
    back to the study), its child run is marked interrupted, and KeyboardInterrupt leaves
    this function once Optuna has finished with the trial (raised inside a trial, Optuna
    would log it with a traceback).
    """
    import optuna

    setup = prepare(config, recorder, setup, preflight)
    data, study = setup.data, setup.extras["study"]
    describe_split(config, data, recorder)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    recorder.update_run(study=config.study_name, storage=config.storage, worker=worker)
    space = ", ".join(f"{k} {list(v)}" for k, v in config.space().items())
    recorder.info(f"{config.sampler} search over {space}; the study is to hold {config.trials} trials "
                  f"({config.grid_size():,} settings in the grid); choosing on validation accuracy only")

    mine: list[int] = []
    interrupted: list[KeyboardInterrupt] = []  # the Ctrl-C (or SIGTERM) a trial was given up for
    with recorder.live_table(f"study '{config.study_name}': trials by validation accuracy", COLUMNS,
                             caption="highlighted: the best so far; test accuracy is never looked at here") as live:
        board = _Board(study, live)

        def one_trial(trial: optuna.Trial) -> float:
            if not holds_slot(trial, config.trials):  # another worker took the last slot meanwhile
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
                if outcome.diverged:
                    child.summary({"diverged": True, "reason": outcome.diverged, "trial": trial.number})
                else:
                    child.summary({"val_acc": outcome.val_acc, "val_loss": outcome.val_loss, "trial": trial.number})
            trial.set_user_attr("seconds", time.perf_counter() - start)
            trial.set_user_attr("worker", str(os.getpid()))
            trial.set_user_attr("run_id", child.run.id if child.run else None)
            mine.append(trial.number)
            board.current = None
            if outcome.diverged:  # pruned, not failed: it keeps its slot and is never rerun
                trial.set_user_attr(DIVERGED_ATTR, outcome.diverged)
                raise optuna.TrialPruned(f"diverged: {outcome.diverged}")
            trial.set_user_attr("val_loss", outcome.val_loss)
            recorder.metric("val_acc", outcome.val_acc, step=trial.number, split="val")
            return outcome.val_acc

        def objective(trial: optuna.Trial) -> float:
            try:
                return one_trial(trial)
            except KeyboardInterrupt as exc:
                interrupted.append(exc)
                trial.study.stop()
                raise optuna.TrialPruned("interrupted") from None

        def after_trial(study, trial) -> None:
            if interrupted:  # outside the trial now: Optuna lets it pass without a log
                raise interrupted[0]
            board.redraw()

        optimize_to(study, objective, config.trials, callbacks=[after_trial])  # re-runs trials of dead workers

    done = sorted((t for t in study.get_trials(deepcopy=False) if is_done(t)), key=lambda t: t.number)
    complete = [t for t in done if t.state == optuna.trial.TrialState.COMPLETE]
    diverged = [t.number for t in done if t not in complete]
    recorder.save_csv("trials.csv", ["trial", *SPACE, "state", "val_acc", "val_loss", "seconds", "worker", "run_id"],
                      [[t.number, *(t.params.get(k) for k in SPACE), "complete" if t.value is not None else "diverged",
                        t.value, t.user_attrs.get("val_loss"), t.user_attrs.get("seconds"), t.user_attrs.get("worker"),
                        t.user_attrs.get("run_id")] for t in done])
    if diverged:
        recorder.warn(f"{len(diverged)} trial(s) diverged (loss NaN or infinite) and were pruned: "
                      f"{', '.join(map(str, diverged))}")
    if not complete:
        raise NnlabError(f"study '{config.study_name}' has no completed trial; raise --trials to add some"
                         + (" or lower --lr" if diverged else ""))
    best = study.best_trial
    recorder.info(f"this worker ran {len(mine)} of the study's {len(done)} trials "
                  f"({', '.join(map(str, mine)) or 'none'}); best: trial {best.number} "
                  f"{best.params} at {100 * best.value:.2f}% validation accuracy")
    result = {"study": config.study_name, "completed_trials": len(complete), "diverged_trials": diverged,
              "my_trials": mine, "best_trial": best.number, "best_params": best.params, "best_val_acc": best.value}
    if config.retrain:
        recorder.info("re-training the best setting; the test set is used once, now")
        outcome = train_mlp(config.mlp(best.params), data, recorder)
        torch.save(outcome.model.state_dict(), recorder.artifact("best_model.pt"))
        report_screenshot(recorder, outcome)
        result |= {"retrained_val_acc": outcome.val_acc, "test_acc": outcome.test_acc,
                   "last_losses": [v for _, v in outcome.last_losses]}
    recorder.summary({k: v for k, v in result.items() if k != "my_trials"})
    return result
