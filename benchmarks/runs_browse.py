"""Time opening the run browser and `nnlab runs list` on many synthetic runs.

Usage: python benchmarks/runs_browse.py [--runs 10000] [--repeat 3] [--metrics 20]

Writes N runs straight as files (run.json, summary.json, metrics.jsonl; one in 50 corrupt,
one in 10 failed, one in 20 a child of the run before) into a temporary folder, then times,
each in a fresh process: the browser from start until its table (with the key metric
column) is filled and drawn, headless at 80x24, first with no index (it is built then) and
then --repeat times with it; its CPU seconds and peak memory; and `nnlab runs list`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = ("kmeans", "ae", "cae", "cnn", "mlp", "cifar")


def synthetic_runs(root: Path, n: int, metrics_per_run: int) -> None:
    """`n` runs written directly as files, in the store's format."""
    import numpy as np  # here: the timed processes need none of it

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


def time_browser(root: Path) -> dict:
    """Seconds, counted from make_app (the import of the browser is timed on its own), until the
    table is filled, until it is drawn (the screen refreshed after that), and until the browser
    is idle (its check of the index against the files done); CPU seconds until drawn (all
    threads: what the machine's load does not inflate), the rows shown, and peak memory."""
    t_import = time.perf_counter()
    from textual.worker import WorkerState

    from nnlab.tui.app import make_app
    imported = time.perf_counter() - t_import

    async def run() -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        app = make_app(root, poll_s=0)
        async with app.run_test(size=(80, 24)) as pilot:
            while app.loaded_at is None:
                await asyncio.sleep(0.005)
            filled, cpu = app.loaded_at - t0, time.process_time() - c0
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)
            await painted.wait()
            drawn, cpu_drawn = time.perf_counter() - t0, time.process_time() - c0
            await pilot.pause()  # until the CPU is idle and the messages handled: the check has started
            while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
                await pilot.pause(0.01)
            idle = time.perf_counter() - t0
            rows = app.screen.query_one("RunsTable").row_count
            await pilot.press("q")
        return {"import": imported, "filled": filled, "drawn": drawn, "idle": idle, "cpu filled": cpu,
                "cpu drawn": cpu_drawn, "rows": rows}

    result = asyncio.run(run())
    result["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure(what: str, root: Path) -> dict:
    """One measurement in a fresh process (imports, caches and peak memory its own)."""
    out = subprocess.run([sys.executable, __file__, "--measure", what, str(root)], check=True,
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_list(root: Path) -> dict:
    """`nnlab runs list` as a user runs it: a new process, Python start and imports included;
    its wall and CPU seconds and peak memory (os.wait4: that process's own)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "nnlab", "runs", "list", "--runs-dir", str(root)],
                                stdout=out, env={**os.environ, "COLUMNS": "80"})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"nnlab runs list exited with {proc.returncode}")
        out.seek(0)
        lines = out.read().count(b"\n")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak MB": usage.ru_maxrss / 1024,
            "lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="tries with the index in place (after the first)")
    parser.add_argument("--metrics", type=int, default=20, help="metric lines per run (never read on open)")
    parser.add_argument("--root", type=Path, help="use the runs already in this folder (written by an earlier "
                        "--keep run) instead of writing new ones")
    parser.add_argument("--keep", type=Path, help="write the runs into this (new) folder and keep them")
    parser.add_argument("--measure", nargs=2, metavar=("WHAT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(time_browser(Path(args.measure[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="nnlab-bench-") as tmp:
        root = args.root or args.keep or Path(tmp)
        if args.root is None:
            t0 = time.perf_counter()
            root.mkdir(parents=True, exist_ok=True)
            synthetic_runs(root, args.runs, args.metrics)
            print(f"{args.runs:,} synthetic runs written in {time.perf_counter() - t0:.0f} s")
        (root / ".nnlab-index.json").unlink(missing_ok=True)  # the first open builds it
        print(f"{sum(1 for _ in root.iterdir()):,} run folders in {root}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        tries = [("browse, no index yet (first open)", measure("browse", root))]
        tries += [(f"browse, index in place (try {i + 1})", measure("browse", root)) for i in range(args.repeat)]
        keys = ["import", "filled", "drawn", "idle", "cpu filled", "cpu drawn", "peak MB", "rows"]
        width = max(len(name) for name, _ in tries)
        print(f"{'':<{width}}  " + "  ".join(f"{k:>10}" for k in keys))
        for name, result in tries:
            print(f"{name:<{width}}  " + "  ".join(f"{result[k]:>10.2f}" if isinstance(result[k], float)
                                                   else f"{result[k]:>10}" for k in keys))
        for i in range(max(1, args.repeat)):
            listed = time_list(root)
            print(f"nnlab runs list (new process, try {i + 1}): {listed['seconds']:.2f} s, {listed['cpu']:.2f} s CPU, "
                  f"{listed['peak MB']:.0f} MB peak, {listed['lines']:,} lines")


if __name__ == "__main__":
    main()
