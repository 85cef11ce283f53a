"""Where an Optuna study lives when several workers share it, and how they fill it to N trials.

`--storage` takes one of:
- `sqlite:///tune.db`: one machine (SQLite locks the file; never on NFS);
- `postgresql://user:password@host/db`: many machines, through psycopg 3;
- `journal:PATH`: many machines on a shared filesystem without a database server.

Every shared storage records heartbeats: a worker that dies mid-trial (SIGKILL, a node lost)
stops beating, and after a grace period any other worker marks that trial failed and queues a
copy of its setting again, so a study never keeps a trial "running" for ever.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from pathlib import Path

from nnlab.errors import NnlabError

HEARTBEAT_ENV = "NNLAB_TUNE_HEARTBEAT"  # seconds between heartbeats of a running trial
HEARTBEAT_S = 10
GRACE_BEATS = 3  # a trial is stale after this many missed heartbeats
CONNECT_TIMEOUT_S = 10  # an unreachable server fails fast instead of hanging for minutes
CREATE_ATTEMPTS = 5
JOURNAL_PREFIX = "journal:"
HEARTBEAT_ATTR = "nnlab_heartbeat"  # journal trials keep their last heartbeat (Unix time) here


def heartbeat_seconds() -> int:
    """The heartbeat interval: $NNLAB_TUNE_HEARTBEAT (whole seconds, at least 1), else 10."""
    text = os.environ.get(HEARTBEAT_ENV, "").strip()
    if not text:
        return HEARTBEAT_S
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise NnlabError(f"${HEARTBEAT_ENV} must be a whole number of seconds, at least 1, got {text!r}")
    return value


def shown_url(url: str) -> str:
    """`url` as it may be printed: any password replaced by ***."""
    if url.startswith(JOURNAL_PREFIX):
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<an unparsable URL>"  # it may hold a password we cannot find to hide


def open_storage(url: str | None):
    """The Optuna storage behind `url` (None: in memory), with heartbeats; failing to open it is a usage error."""
    if url is None:
        return None
    import optuna

    beat = heartbeat_seconds()
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        heartbeat = {"heartbeat_interval": beat, "grace_period": GRACE_BEATS * beat,
                     "heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback()}
        if url.startswith(JOURNAL_PREFIX):
            return _journal(url[len(JOURNAL_PREFIX):], heartbeat)
        return _rdb(url, heartbeat)


def _journal(path_text: str, heartbeat: dict):
    path = Path(path_text).expanduser()
    if not path_text.strip():
        raise NnlabError("--storage journal: needs a file path, e.g. journal:/shared/tune.journal")
    if not path.parent.is_dir():
        raise NnlabError(f"cannot open --storage 'journal:{path_text}': folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise NnlabError(f"cannot open --storage 'journal:{path_text}': not a regular file")
    try:
        return _storage_classes()[1](str(path), **heartbeat)
    except (OSError, ValueError) as exc:  # ValueError: a file that is not an Optuna journal
        raise NnlabError(f"cannot open --storage 'journal:{path_text}': {_first_line(exc)}") from None


def _rdb(url: str, heartbeat: dict):
    from sqlalchemy.exc import DBAPIError

    shown = shown_url(url)  # as the user typed it, password hidden
    url = _with_driver(url)
    if url.startswith("sqlite"):
        # SQLite serialises writers with a file lock: wait for it rather than fail under two workers
        kwargs = {"connect_args": {"timeout": 60}}
    elif url.startswith("postgresql"):
        kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}, "pool_pre_ping": True}
    else:
        kwargs = None
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return _storage_classes()[0](url, engine_kwargs=kwargs, **heartbeat)
        except DBAPIError as exc:
            # workers starting together on a new database race to create its schema; the
            # loser finds the tables there when it tries again
            text = str(exc)
            if not (type(exc).__name__ == "IntegrityError" or "already exists" in text or "duplicate key" in text):
                raise NnlabError(f"cannot open --storage '{shown}': {_first_line(exc)}") from None
            if attempt == CREATE_ATTEMPTS - 1:
                raise NnlabError(f"cannot open --storage '{shown}': its schema is being created by "
                                 "another process and never became ready") from None
            time.sleep(0.5 * (attempt + 1))
        except ModuleNotFoundError as exc:
            raise NnlabError(f"cannot open --storage '{shown}': its database driver (Python module "
                             f"{exc.name}) is not installed") from None
        except Exception as exc:  # SQLAlchemy and drivers raise many types; all mean "cannot open"
            raise NnlabError(f"cannot open --storage '{shown}': {_first_line(exc)}") from None


def _with_driver(url: str) -> str:
    """postgresql://… goes through psycopg 3 (SQLAlchemy would pick psycopg2, which we do not ship)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@functools.cache
def _storage_classes():
    """Optuna's RDB and journal storages, both beating from the moment a trial runs."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages import RDBStorage
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    from optuna.trial import TrialState

    class BeatFromTheStart:
        """Records a trial's first heartbeat as soon as it is running. Optuna records it only once
        the objective starts, and skips trials that never beat, so a worker killed in between
        would leave its trial running for ever."""

        def create_new_trial(self, study_id: int, template_trial=None) -> int:
            trial_id = super().create_new_trial(study_id, template_trial)
            if template_trial is None or template_trial.state == TrialState.RUNNING:
                self.record_heartbeat(trial_id)
            return trial_id

        def set_trial_state_values(self, trial_id: int, state, values=None) -> bool:
            changed = super().set_trial_state_values(trial_id, state, values)
            if changed and state == TrialState.RUNNING:  # a queued trial taken by this worker
                self.record_heartbeat(trial_id)
            return changed

    class BeatingRDBStorage(BeatFromTheStart, RDBStorage):
        pass

    class BeatingJournalStorage(BeatFromTheStart, JournalStorage, BaseHeartbeat):
        """JournalStorage with the heartbeats Optuna gives only to RDB storages, kept as trial system attrs."""

        def __init__(self, path: str, *, heartbeat_interval: int, grace_period: int,
                     heartbeat_stale_trial_callback) -> None:
            super().__init__(JournalFileBackend(path))
            self.heartbeat_interval = heartbeat_interval
            self.grace_period = grace_period
            self.stale_callback = heartbeat_stale_trial_callback

        def record_heartbeat(self, trial_id: int) -> None:
            try:
                self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
            except UpdateFinishedTrialError:
                pass  # another worker judged this trial stale and failed it; its retry is queued

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            # wall clocks of the machines sharing the file must agree to well within the grace period
            now = time.time()
            return [t._trial_id for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
                    if now - t.system_attrs.get(HEARTBEAT_ATTR, t.datetime_start.timestamp()) > self.grace_period]

        def get_heartbeat_interval(self) -> int:
            return self.heartbeat_interval

        def get_heartbeat_stale_trial_callback(self):
            return self.stale_callback

    return BeatingRDBStorage, BeatingJournalStorage


# ---- filling a shared study --------------------------------------------------------------

DIVERGED_ATTR = "diverged"  # user attr of a trial pruned because its loss became NaN or infinite


def is_done(trial) -> bool:
    """Whether a finished trial counts towards the study's N: complete, or pruned as diverged
    (rerunning a diverging setting would diverge again)."""
    from optuna.trial import TrialState

    if trial.state == TrialState.PRUNED:
        return DIVERGED_ATTR in trial.user_attrs
    return trial.state == TrialState.COMPLETE


def holds_slot(trial, n: int) -> bool:
    """Whether `trial` is among the first `n` live (done, running or queued) trials of its study.

    Trial numbers are handed out by the storage, one per trial, so two workers asking at once
    never both take the last slot; failed trials and those pruned for another reason than
    divergence give their slot back.
    """
    from optuna.trial import TrialState

    waiting = (TrialState.RUNNING, TrialState.WAITING)
    earlier = [t for t in trial.study.get_trials(deepcopy=False)
               if t.number < trial.number and (t.state in waiting or is_done(t))]
    return len(earlier) < n


def slot_number(study, trial) -> int:
    """Which place of the study `trial` fills, counting fresh trials from 0: for a sampler that
    deals settings by place (the k-th grid point to place k).

    A dead worker's trial, queued again, keeps its original's place (its worker may have died
    before drawing a setting, so the retry may carry none); the retries take trial numbers of
    their own, which fresh trials after them skip. Both facts are fixed when a trial is created,
    so every worker computes the same place.
    """
    original = trial.system_attrs.get("failed_trial")  # set by RetryHeartbeatStaleTrialCallback
    if original is not None:
        return original
    retries = sum(1 for t in study.get_trials(deepcopy=False)
                  if t.number < trial.number and "failed_trial" in t.system_attrs)
    return trial.number - retries


def optimize_to(study, objective, n: int, callbacks=()) -> None:
    """Run trials of `study` until it holds `n` done ones (complete or diverged), whichever workers run them.

    When the remaining slots are all taken by trials running elsewhere, this worker waits: if
    one of them stops beating, its setting comes back queued and this worker runs it. The
    objective should give its trial up (optuna.TrialPruned) when `holds_slot` says no.
    """
    import optuna
    from optuna.storages._heartbeat import is_heartbeat_enabled
    from optuna.trial import TrialState

    storage = study._storage
    beating = is_heartbeat_enabled(storage)
    while True:
        if beating:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        states = [t.state for t in trials]
        done = sum(map(is_done, trials))
        if done >= n:
            return
        live = done + states.count(TrialState.RUNNING) + states.count(TrialState.WAITING)
        if live < n or TrialState.WAITING in states:
            study.optimize(objective, n_trials=1, callbacks=list(callbacks))
        elif beating:
            time.sleep(storage.get_heartbeat_interval())
        else:
            return  # nothing can recover a trial without heartbeats: stop with what the study holds
