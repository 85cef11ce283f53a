"""The nnlab process under real signals and real pipes: Ctrl-C, SIGTERM, a reader that leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from nnlab.runs.store import RunStore

ENV = dict(os.environ, PYTHONUNBUFFERED="1")


def start_long_kmeans(runs: Path) -> subprocess.Popen:
    """A kmeans run that trains for hours, returned once it has recorded a metric."""
    proc = subprocess.Popen([sys.executable, "-m", "nnlab", "kmeans", "--dataset", "digits", "--epochs", "100000",
                             "--batch-size", "1", "--runs-dir", str(runs), "--no-lloyd"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until training has recorded something
        found = list(runs.glob("*/metrics.jsonl"))
        if found and found[0].stat().st_size > 0:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("training never started")


def assert_interrupted(proc: subprocess.Popen, runs: Path, code: int) -> None:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "interrupted" in out + err and "Traceback" not in out + err
    run = RunStore(runs).get("latest")
    assert run.status == "interrupted" and run.metrics() and run.info["end_time"]


def test_ctrl_c_keeps_the_run_marked_interrupted(tmp_runs):
    proc = start_long_kmeans(tmp_runs)
    proc.send_signal(signal.SIGINT)
    assert_interrupted(proc, tmp_runs, 130)


def test_sigterm_is_handled_like_ctrl_c_with_exit_143(tmp_runs):
    proc = start_long_kmeans(tmp_runs)
    proc.send_signal(signal.SIGTERM)
    assert_interrupted(proc, tmp_runs, 143)


def test_a_second_ctrl_c_still_ends_cleanly(tmp_runs):
    proc = start_long_kmeans(tmp_runs)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.01)  # the second arrives while the first is closing the run
    proc.send_signal(signal.SIGINT)
    assert_interrupted(proc, tmp_runs, 130)


def test_a_reader_that_left_is_no_error(tmp_runs):
    """stdout closed before nnlab writes a byte: every write hits a broken pipe."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "nnlab", "ops-check", "--runs-dir", str(tmp_runs)],
                              env=ENV, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert RunStore(tmp_runs).get("latest").status == "completed"


def test_piped_into_head(tmp_runs):
    shell = f"set -o pipefail; {sys.executable} -m nnlab ops-check --runs-dir '{tmp_runs}' | head -1"
    proc = subprocess.run(["bash", "-c", shell], env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert RunStore(tmp_runs).get("latest").status == "completed"
