"""Time opening the run browser and `nnlab runs list` on many synthetic runs.

Usage: python benchmarks/runs_browse.py [--runs 2000] [--repeat 3] [--metrics 200]

Writes N runs straight as files (run.json, summary.json, metrics.jsonl; one in 50 corrupt,
one in 10 failed, one in 20 a child of the run before) into a temporary folder, then times:
reading every run.json; the browser from start until its table is filled (headless, 80x24);
until the key metric column is filled too; `runs list` in-process; and `nnlab runs list` as
a fresh process (Python start and imports included). Prints the best and median of
--repeat tries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COMMANDS = ("kmeans", "ae", "cae", "cnn", "mlp", "cifar")


def synthetic_runs(root: Path, n: int, metrics_per_run: int) -> None:
    """`n` runs written directly as files, in the store's format."""
    rng = np.random.default_rng(0)
    previous = None
    for i in range(n):
        command = COMMANDS[i % len(COMMANDS)]
        run_id = f"2026-01-{1 + i // 1440 % 28:02d}T{i // 60 % 24:02d}-{i % 60:02d}-00_{command}_{i:06x}"
        path = root / run_id
        (path / "artifacts").mkdir(parents=True)
        if i % 50 == 49:  # a half-written run: the browser must list it as unreadable
            (path / "run.json").write_text('{"id": "cut sho', encoding="utf-8")
            continue
        start = 1.7e9 + i * 60
        info = {"id": run_id, "command": command, "argv": ["nnlab", command], "seed": i,
                "config": {"lr": float(rng.choice([0.01, 0.1, 4.5])), "epochs": 10, "batch_size": 64,
                           "init": str(rng.choice(["exemplar", "random"]))},
                "status": "failed" if i % 10 == 9 else "completed", "start": "2026-01-01T00:00:00",
                "start_time": start, "end_time": start + float(rng.integers(10, 600)),
                "versions": {"python": "3.11", "torch": "2.14.1"}, "device": "cpu",
                "host": "gpu-server", "pid": 1, "parent": previous if i % 20 == 19 else None}
        (path / "run.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        (path / "summary.json").write_text(json.dumps({"test_loss": float(rng.random()),
                                                       "test_accuracy": float(rng.random())}), encoding="utf-8")
        with open(path / "metrics.jsonl", "w", encoding="utf-8") as fh:
            for s in range(metrics_per_run):
                fh.write(json.dumps({"step": s, "epoch": s // 20, "split": "train", "name": "loss",
                                     "value": 1 / (s + 1), "time": s}) + "\n")
        previous = run_id


def time_read(root: Path) -> float:
    from nnlab.runs.store import RunStore

    t0 = time.perf_counter()
    RunStore(root).runs()
    return time.perf_counter() - t0


def time_browser(root: Path) -> tuple[float, float, float, tuple[float, float], int]:
    """Seconds until the table is filled, drawn, and has every key metric; CPU seconds until
    filled and drawn (all threads: what the machine's load does not inflate); the row count."""
    from nnlab.tui.app import make_app
    from nnlab.tui.runs_table import RunsTable

    async def run() -> tuple[float, float, float, tuple[float, float], int]:
        t0, c0 = time.perf_counter(), time.process_time()
        app = make_app(root, poll_s=0)
        async with app.run_test(size=(80, 24)) as pilot:
            while app.loaded_at is None:
                await asyncio.sleep(0.005)
            filled, cpu = app.loaded_at - t0, time.process_time() - c0
            await pilot.pause()  # until the filled table has been drawn
            painted, cpu_painted = time.perf_counter() - t0, time.process_time() - c0
            table = app.screen.query_one(RunsTable)
            readable = sum(1 for r in table.runs.values() if not r.error)
            while len(table.summaries) < readable:
                await asyncio.sleep(0.005)
            metrics = time.perf_counter() - t0
            rows = table.row_count
            await pilot.press("q")
        return filled, painted, metrics, (cpu, cpu_painted), rows

    return asyncio.run(run())


def time_list_inprocess(root: Path) -> float:
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["runs", "list", "--runs-dir", str(root)])
    assert result.exit_code == 0, result.output
    return time.perf_counter() - t0


def time_list_process(root: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nnlab", "runs", "list", "--runs-dir", str(root)],
                   check=True, capture_output=True, env={**os.environ, "COLUMNS": "80"})
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--metrics", type=int, default=200, help="metric lines per run (never read on open)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nnlab-bench-") as tmp:
        root = Path(tmp)
        synthetic_runs(root, args.runs, args.metrics)
        results: dict[str, list[float]] = {}
        rows = 0
        for _ in range(args.repeat):
            results.setdefault("read every run.json (RunStore.runs)", []).append(time_read(root))
            filled, painted, metrics, cpu, rows = time_browser(root)
            results.setdefault("browse: start -> table filled", []).append(filled)
            results.setdefault("browse: start -> table drawn", []).append(painted)
            results.setdefault("browse: CPU seconds until filled", []).append(cpu[0])
            results.setdefault("browse: CPU seconds until drawn", []).append(cpu[1])
            results.setdefault("browse: start -> key metrics filled", []).append(metrics)
            results.setdefault("runs list (in-process)", []).append(time_list_inprocess(root))
            results.setdefault("nnlab runs list (new process)", []).append(time_list_process(root))
        print(f"{args.runs} synthetic runs ({rows} rows in the table), {args.repeat} tries, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        width = max(map(len, results))
        print(f"{'what':<{width}}  {'best s':>7}  {'median s':>8}")
        for name, times in results.items():
            print(f"{name:<{width}}  {min(times):7.3f}  {statistics.median(times):8.3f}")


if __name__ == "__main__":
    main()
