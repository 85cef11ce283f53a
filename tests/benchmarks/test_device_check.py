"""benchmarks/device_check.sh --tiny: every training command on the CPU with run.json checked, the
CIFAR recipe timed, airbench skipped with its reason, one table. Deselect with -m 'not benchmark'."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "device_check.sh"
COMMANDS = ("kmeans", "ae", "cae", "cnn", "mlp", "mlp tune", "landscape", "cifar")

pytestmark = pytest.mark.benchmark


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_tiny_device_check_prints_one_passing_table():
    # the script's own 5-minute limit is for a quiet machine; a loaded one gets more room here
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DEVICE_CHECK_LIMIT_S": "1200"}
    done = subprocess.run([str(SCRIPT), "--tiny"], capture_output=True, text=True, env=env, timeout=1300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("device check on CPU") and lines[1].split()[:2] == ["check", "result"]
    by_check = {line.split("  ")[0]: line for line in lines[2:]}
    for name in COMMANDS:
        assert " ok " in by_check[name] and "run.json device cpu" in by_check[name], by_check[name]
    recipe = next(line for line in lines if line.startswith("cifar recipe (nnlab)"))
    assert "s/epoch" in recipe and "s to 2 epochs" in recipe
    airbench = next(line for line in lines if line.startswith("airbench94"))
    assert "skipped" in airbench and "needs CUDA" in airbench
