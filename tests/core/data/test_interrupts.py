"""Ctrl-C at any moment leaves no `.partial` file: real SIGINTs sent to a real process
while it runs `nnlab data import` (CLI) and decompresses MNIST archives (loader).

One child process serves many rounds: in each it runs the operation once, and the test
sends SIGINT after a delay that sweeps the whole operation, from before it starts to
after it ends. Between rounds the child blocks SIGINT, so a late signal waits for the
next round instead of hitting the bookkeeping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cifar_files import write_cifar_folder
from idx import write_idx_dataset

ROUNDS = 8  # per operation

DRIVER = r"""
import contextlib, json, shutil, signal, sys, time
from pathlib import Path

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
from nnlab.cli.app import app
from nnlab.core.data import load_dataset

source, data, mnist = (Path(p) for p in sys.argv[1:4])

def run(op):
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries this driver's reports
        if op == "import":
            return app(["data", "import", str(source), "--data-dir", str(data)], standalone_mode=False)
        return len(load_dataset("mnist", mnist).train)

def reset():
    shutil.rmtree(data, ignore_errors=True)
    for p in (mnist / "MNIST" / "raw").iterdir():
        if not p.name.endswith(".gz"):
            p.unlink()

print("ready", flush=True)
for line in sys.stdin:
    op = line.strip()
    reset()
    outcome = "done"
    start = time.perf_counter()
    print("go", flush=True)
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        result = run(op)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        outcome = "interrupted" if result == 130 else f"done {result}"
    except KeyboardInterrupt:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        outcome = "interrupted"
    except BaseException as exc:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        outcome = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - start
    sys.stdin.readline()  # the test has sent its signal (or none): drain it before the next round
    if signal.SIGINT in signal.sigpending():
        signal.sigwait({signal.SIGINT})
    partial = sorted(str(p) for root in (data, mnist) for p in root.rglob("*.partial"))
    print(json.dumps({"op": op, "outcome": outcome, "elapsed": elapsed, "partial": partial}), flush=True)
"""


def test_sigint_at_any_moment_leaves_no_partial_file(tmp_path):
    source = write_cifar_folder(tmp_path / "download", n_train=2500, n_test=500)  # 9 MB of batches
    mnist = write_idx_dataset(tmp_path / "mnist", "MNIST", n_train=4000, n_test=1000)  # 4 MB to gunzip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    child = subprocess.Popen([sys.executable, "-c", DRIVER, str(source), str(tmp_path / "data"), str(mnist)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"

        def round_(op: str, delay: float | None) -> dict:
            child.stdin.write(op + "\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "go"
            if delay is not None:
                time.sleep(delay)
                child.send_signal(signal.SIGINT)
            child.stdin.write("sent\n")
            child.stdin.flush()
            return json.loads(child.stdout.readline())

        results = []
        for op in ("import", "load"):
            round_(op, None)  # the first round also imports torchvision: time the second
            baseline = round_(op, None)
            assert baseline["outcome"].startswith("done") and not baseline["partial"], baseline
            span = baseline["elapsed"]
            for k in range(ROUNDS):
                results.append(round_(op, span * 1.2 * k / (ROUNDS - 1)))
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert [r for r in results if r["partial"]] == []
    unexpected = [r for r in results if r["outcome"] != "interrupted" and not r["outcome"].startswith("done")]
    assert unexpected == []
    for op in ("import", "load"):  # the sweep hit the operation mid-way, not only before or after it
        assert any(r["op"] == op and r["outcome"] == "interrupted" for r in results)
