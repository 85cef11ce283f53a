"""Shared `mlp tune` studies: PostgreSQL (a real server started here) and journal files, four
worker processes splitting one grid, a worker killed mid-trial, and storages that cannot open."""

from __future__ import annotations

import glob
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from idx import write_idx_dataset
from nnlab.core.study_storage import HEARTBEAT_ATTR, holds_slot, open_storage, optimize_to, shown_url, slot_number
from nnlab.errors import NnlabError

optuna = pytest.importorskip("optuna")

GRID = {"layers": (1, 2), "units": (4, 8), "lr": (0.01, 0.02, 0.05)}  # 12 settings
WORKER_TIMEOUT_S = 300  # generous: start-up alone takes a minute on a loaded 2-core machine


# ---- a throw-away PostgreSQL server ------------------------------------------------------

def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server in a temporary folder, on a Unix socket there only; stopped afterwards.

    initdb refuses to run as root, so under root (CI) the server runs as user `nobody`.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
                    "apt-get install postgresql")
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed: pip install 'psycopg[binary]'")
    folder = Path(tempfile.mkdtemp(prefix="nnlab-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
        shutil.chown(folder, user="nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    data = folder / "data"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True, "timeout": 60}
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "nnlab", "--auth=trust", "--no-sync", "-E", "UTF8"],
                   **quiet)
    options = f"-c listen_addresses='' -c unix_socket_directories={folder} -c fsync=off -c max_connections=50"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o", options,
                    "start"], **quiet)
    try:
        yield f"postgresql://nnlab:secret@/postgres?host={folder}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["postgresql", "journal"])
def storage_url(request, tmp_path) -> str:
    """Each shared storage in turn, with a fresh study space."""
    if request.param == "journal":
        return f"journal:{tmp_path / 'tune.journal'}"
    base = request.getfixturevalue("postgres_url")
    import psycopg

    name = f"study_{request.node.name.split('[')[0][-20:]}".lower()
    host = base.split("host=")[1]
    with psycopg.connect(host=host, user="nnlab", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.replace("/postgres?", f"/{name}?")


# ---- real `nnlab mlp tune` workers -------------------------------------------------------

@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    return write_idx_dataset(tmp_path / "data", n_train=300, n_test=20)


def _worker(url: str, data: Path, runs: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "nnlab", "mlp", "tune", "--storage", url, "--study-name", "grid",
            "--sampler", "grid", "--trials", "12", "--layers", "1,2", "--units", "4,8", "--lr", "0.01,0.02,0.05",
            "--batch-size", "32", "--epochs", "1", "--l2", "0", "--no-retrain", "--dataset", "mnist",
            "--device", "cpu", "--data-dir", str(data), "--runs-dir", str(runs), "--json"]
    env = {**os.environ, "NNLAB_TUNE_HEARTBEAT": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(worker: subprocess.Popen) -> dict:
    out, err = worker.communicate(timeout=WORKER_TIMEOUT_S)
    assert worker.returncode == 0, err[-2000:]
    return json.loads(out)


def _study(url: str):
    return optuna.load_study(study_name="grid", storage=open_storage(url))


def _assert_grid_done_once(study) -> list:
    """Every grid setting completed exactly once; returns the study's trials."""
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    settings = sorted((t.params["layers"], t.params["units"], t.params["lr"]) for t in complete)
    assert settings == sorted(itertools.product(*GRID.values()))
    assert not [t for t in trials if t.state in (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)]
    return trials


def test_four_workers_split_the_grid_exactly(storage_url, tiny_mnist, tmp_path):
    workers = [_worker(storage_url, tiny_mnist, tmp_path / "runs") for _ in range(4)]
    results = [_finish(w) for w in workers]
    _assert_grid_done_once(_study(storage_url))
    mine = sorted(n for r in results for n in r["my_trials"])
    assert len(mine) == len(set(mine)) == 12  # no trial run by two workers, none lost
    assert all(r["completed_trials"] == 12 for r in results)


def _beating_trials(storage, url: str) -> list:
    """The study's running trials that have recorded a heartbeat (none if the study is not there yet)."""
    try:
        study = optuna.load_study(study_name="grid", storage=storage)
    except KeyError:
        return []
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    if url.startswith("journal:"):
        return [t for t in running if HEARTBEAT_ATTR in t.system_attrs]
    from sqlalchemy import text

    with storage.engine.connect() as conn:
        beating = {row[0] for row in conn.execute(text("SELECT trial_id FROM trial_heartbeats"))}
    return [t for t in running if t._trial_id in beating]


def test_a_worker_killed_mid_trial_is_recovered(storage_url, tiny_mnist, tmp_path):
    storage = open_storage(storage_url)
    victim = _worker(storage_url, tiny_mnist, tmp_path / "runs")
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while True:  # freeze the victim, and kill it only if it froze inside a trial
        assert victim.poll() is None and time.monotonic() < deadline, "the victim ended before it was caught"
        time.sleep(0.05)
        victim.send_signal(signal.SIGSTOP)
        running = _beating_trials(storage, storage_url)
        if running:
            break
        victim.send_signal(signal.SIGCONT)
    victim.kill()
    victim.communicate(timeout=10)
    killed = running[0].number
    survivor = _finish(_worker(storage_url, tiny_mnist, tmp_path / "runs"))
    trials = _assert_grid_done_once(optuna.load_study(study_name="grid", storage=storage))
    by_number = {t.number: t for t in trials}
    assert by_number[killed].state == optuna.trial.TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert [t.state for t in retried] == [optuna.trial.TrialState.COMPLETE]
    # the retry runs the killed trial's grid point: whatever the victim had drawn before it was
    # caught (all, part or none of the setting) the retry drew too, with the same values
    drawn = by_number[killed].params
    assert {name: retried[0].params[name] for name in drawn} == drawn
    assert set(GRID) <= set(retried[0].params)  # and the retry drew the whole setting
    assert survivor["completed_trials"] == 12 and killed not in survivor["my_trials"]


# ---- in process: heartbeats, slots, storages that cannot open ----------------------------

def test_a_stale_journal_trial_is_failed_and_its_setting_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_TUNE_HEARTBEAT", "1")
    storage = open_storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(storage=storage, study_name="s")
    study.enqueue_trial({"x": 7})
    dead = study.ask()  # as a worker would, then it "dies": its last heartbeat is long ago
    storage.set_trial_system_attr(dead._trial_id, HEARTBEAT_ATTR, time.time() - 60)
    seen = []

    def objective(trial):
        if not holds_slot(trial, 3):
            raise optuna.TrialPruned()
        seen.append(trial.suggest_int("x", 0, 9))
        return float(seen[-1])

    optimize_to(study, objective, 3)
    states = [t.state for t in study.get_trials()]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 3
    assert study.get_trials()[dead.number].state == optuna.trial.TrialState.FAIL
    assert 7 in seen  # the dead trial's setting ran again
    retry = next(t for t in study.get_trials() if t.system_attrs.get("failed_trial") == dead.number)
    assert slot_number(study, retry) == dead.number != retry.number  # a grid sampler deals it the dead trial's point
    later = [t for t in study.get_trials() if t.number > retry.number]
    assert [slot_number(study, t) for t in later] == [t.number - 1 for t in later]  # the retry's number is skipped


def test_slots_are_taken_by_trial_number(tmp_path):
    study = optuna.create_study(storage=open_storage(f"journal:{tmp_path / 'j.log'}"))
    trials = [study.ask() for _ in range(3)]
    assert [holds_slot(t, 2) for t in trials] == [True, True, False]
    study.tell(trials[0], state=optuna.trial.TrialState.FAIL)  # a failed trial gives its slot back
    assert holds_slot(trials[2], 2)


def test_password_is_hidden_and_postgres_goes_through_psycopg():
    assert shown_url("postgresql://tina:s3cret@db.lab:5432/tune") == "postgresql://tina:***@db.lab:5432/tune"
    assert "s3cret" not in shown_url("postgresql+psycopg://tina:s3cret@db/tune")
    assert shown_url("journal:/shared/t.log") == "journal:/shared/t.log"


def test_unreachable_database_is_one_line_without_the_password():
    pytest.importorskip("psycopg")
    with pytest.raises(NnlabError) as info:
        open_storage("postgresql://tina:s3cret@127.0.0.1:1/tune")  # nothing listens on port 1
    message = str(info.value)
    assert "'postgresql://tina:***@127.0.0.1:1/tune'" in message and "s3cret" not in message
    assert "\n" not in message


@pytest.mark.parametrize("url, message", [
    ("journal:", "needs a file path"),
    ("journal:{tmp}/no/such/dir/t.log", "does not exist"),
    ("journal:{tmp}", "not a regular file"),
    ("sqlite:///{tmp}/no/such/dir/t.db", "cannot open --storage"),
    ("nosuchdb://x", "cannot open --storage"),
])
def test_unopenable_storages_are_usage_errors(url, message, tmp_path):
    with pytest.raises(NnlabError, match=message):
        open_storage(url.format(tmp=tmp_path))


def test_heartbeat_setting_is_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_TUNE_HEARTBEAT", "0.5")
    with pytest.raises(NnlabError, match="NNLAB_TUNE_HEARTBEAT must be a whole number"):
        open_storage(f"journal:{tmp_path / 'j.log'}")
    assert open_storage(None) is None
